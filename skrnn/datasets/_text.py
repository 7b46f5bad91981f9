"""Templated text corpora where word order decides: sentiment and entity tags."""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._validation import _check_bool, _check_int

__all__ = ["make_entity_sentences", "make_movie_reviews"]

# ---------------------------------------------------------------------------
# Movie reviews
# ---------------------------------------------------------------------------
# Lexicon.  Every word has a single role, so that a review can be parsed
# back from its tokens (tests/test_datasets.py does exactly that).  Words are
# lowercase, free of punctuation and at least two characters long except the
# pronoun "i", which CountVectorizer's default token pattern drops and which
# carries no information.
_POSITIVE_ADJECTIVES = (
    "good", "great", "excellent", "wonderful", "brilliant", "superb", "enjoyable",
    "clever", "moving", "charming", "gripping", "delightful", "solid", "fun",
)
_NEGATIVE_ADJECTIVES = (
    "bad", "awful", "terrible", "boring", "dull", "weak", "poor",
    "clumsy", "bland", "tedious", "lame", "dreadful", "messy", "predictable",
)
_NEUTRAL_ADJECTIVES = ("okay", "average", "ordinary", "passable", "adequate", "acceptable")
_POSITIVE_VERBS = ("loved", "liked", "enjoyed", "admired", "adored")
_NEGATIVE_VERBS = ("hated", "disliked", "loathed", "despised", "resented")
# Each entry is one aspect, with its alternative wordings.
_ASPECTS = (
    ("the plot",), ("the acting",), ("the script",), ("the soundtrack",), ("the dialogue",),
    ("the ending",), ("the cast",), ("the pacing",), ("the cinematography",),
    ("the direction",), ("the story",), ("the music",), ("the editing",), ("the villain",),
    ("this movie", "this film"),
)
_ADJECTIVE_NEGATORS = ("not", "never", "hardly")
_VERB_NEGATORS = ("never", "hardly")
_ADJECTIVE_INTENSIFIERS = ("very", "really", "truly", "quite", "extremely", "incredibly", "so")
_VERB_INTENSIFIERS = ("really", "truly", "absolutely", "genuinely")
_HEDGES = ("fairly", "rather", "mostly", "quite")
_OPENERS = (
    "honestly", "overall", "frankly", "admittedly", "i think", "for me", "in short", "all told",
)
_CONTRASTS = ("but", "yet", "however")  # the clause after it decides
_CONCESSIVES = ("although", "though", "even though")  # the clause it introduces does not

# Probabilities of the optional parts; they do not depend on the label.
_P_OPENER = 0.3
_P_INTENSIFIER = 0.35
_P_VERB_CLAUSE = 0.3
_P_SINGLE_CLAUSE = 0.4  # binary corpus only

_SENTIMENT_NAMES = {1: "positive", -1: "negative", 0: "neutral"}


def _choice(rng, options):
    return options[rng.randint(len(options))]


def _polar_clause(rng, sentiment, aspect):
    """Words of one clause with sentiment +1 or -1.

    Negation is drawn with probability 1/2 independently of the sentiment,
    and the polarity of the adjective (or verb) is the sentiment flipped by
    the negation, so each polar word and each negator is as frequent in
    positive as in negative clauses.
    """
    negated = rng.uniform() < 0.5
    polarity = -sentiment if negated else sentiment
    intensified = rng.uniform() < _P_INTENSIFIER
    words = []
    if rng.uniform() < _P_VERB_CLAUSE:
        words.append("i")
        if negated:
            words.append(_choice(rng, _VERB_NEGATORS))
        if intensified:
            words.append(_choice(rng, _VERB_INTENSIFIERS))
        words.append(_choice(rng, _POSITIVE_VERBS if polarity > 0 else _NEGATIVE_VERBS))
        words.append(aspect)
    else:
        words += [aspect, "was"]
        if negated:
            words.append(_choice(rng, _ADJECTIVE_NEGATORS))
        if intensified:
            words.append(_choice(rng, _ADJECTIVE_INTENSIFIERS))
        words.append(_choice(rng, _POSITIVE_ADJECTIVES if polarity > 0 else _NEGATIVE_ADJECTIVES))
    return words


def _neutral_clause(rng, aspect):
    words = [aspect, "was"]
    if rng.uniform() < _P_INTENSIFIER:
        words.append(_choice(rng, _HEDGES))
    words.append(_choice(rng, _NEUTRAL_ADJECTIVES))
    return words


def _clause(rng, sentiment, aspect):
    if sentiment == 0:
        return _neutral_clause(rng, aspect)
    return _polar_clause(rng, sentiment, aspect)


def _review(rng, label, n_clauses):
    """One review whose decisive clause has sentiment ``label``.

    The other clauses carry the remaining sentiments (the opposite one for
    two clauses; the two others for three clauses) in random order, so
    swapping clause contents between positions turns a review of one label
    into an equally likely review of another label with the same words.
    """
    aspects = [_choice(rng, _ASPECTS[i]) for i in rng.permutation(len(_ASPECTS))[:n_clauses]]
    others = [s for s in (1, -1, 0)[: 2 if n_clauses < 3 else 3] if s != label]
    others = [others[i] for i in rng.permutation(len(others))]

    if n_clauses == 1:
        words = _clause(rng, label, aspects[0])
    else:
        form = rng.randint(3)
        sentiments = others[: n_clauses - 1]
        if form == 2:  # "C1 although C2 [and C3]": the first clause decides
            sentiments = [label] + sentiments
        else:  # "C1 [and C2] but C3" or "although C1 [and C2] C3": the last decides
            sentiments = sentiments + [label]
        clauses = [_clause(rng, s, a) for s, a in zip(sentiments, aspects)]
        if form == 0:
            words = []
            for clause in clauses[:-2]:
                words += clause + ["and"]
            words += clauses[-2] + [_choice(rng, _CONTRASTS)] + clauses[-1]
        elif form == 1:
            words = [_choice(rng, _CONCESSIVES)]
            for clause in clauses[:-2]:
                words += clause + ["and"]
            words += clauses[-2] + clauses[-1]
        else:
            words = clauses[0] + [_choice(rng, _CONCESSIVES)]
            for clause in clauses[1:-1]:
                words += clause + ["and"]
            words += clauses[-1]
    if rng.uniform() < _P_OPENER:
        words = [_choice(rng, _OPENERS)] + words
    return " ".join(words)


def make_movie_reviews(n_samples=1000, *, neutral=False, shuffle=True, random_state=None):
    """Generate short movie reviews whose sentiment depends on word order.

    Every review comes from a small grammar in which the label is a
    deterministic function of the token sequence, but not of the bag of
    words: negation flips a clause ('good' vs 'not good', 'not bad'), and
    in a review with several clauses the connective and the clause order
    decide which clause counts ('the plot was good but the acting was bad'
    is negative, 'the acting was bad but the plot was good' is positive).
    A bag-of-words linear model stays near chance while a recurrent network
    can learn the task to near-perfect accuracy.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of reviews.
    neutral : bool, default=False
        If False, labels are 'negative' and 'positive'.  If True, every
        review has three clauses, one positive, one negative and one neutral
        (e.g. 'the music was okay'), and the label, one of 'negative',
        'neutral' and 'positive', is the sentiment of the decisive clause.
    shuffle : bool, default=True
        If False, reviews are grouped by label, in the order
        'negative', ('neutral',) 'positive'.
    random_state : int, RandomState instance or None, default=None
        Seed of the generation and of the shuffling.

    Returns
    -------
    reviews : pandas.DataFrame of shape (n_samples, 2)
        Column ``text`` (str: lowercase words separated by single spaces,
        no punctuation) and column ``label`` (str).  Labels are balanced:
        their counts differ by at most one.

    See Also
    --------
    make_entity_sentences : Token-level tags decided by context.

    Notes
    -----
    Grammar (``[x]`` optional, ``|`` alternatives, ``...`` more words of the
    same role)::

        review     := [opener] body
        body       := clause                        (binary only; decisive: it)
                    | clause contrast clause        (decisive: the second)
                    | concessive clause clause      (decisive: the second)
                    | clause concessive clause      (decisive: the first)
                    | clause "and" clause contrast clause     (neutral=True;
                    | concessive clause "and" clause clause    decisive as
                    | clause concessive clause "and" clause    above)
        clause     := aspect "was" [adj-neg] [adj-int] adjective
                    | "i" [verb-neg] [verb-int] verb aspect
                    | aspect "was" [hedge] neutral-adj        (neutral=True)
        opener     := "honestly" | "overall" | "i think" | "in short" | ...
        contrast   := "but" | "yet" | "however"
        concessive := "although" | "though" | "even though"
        aspect     := "the plot" | "the acting" | ... | "this movie" | "this film"
        adjective  := "good" | "great" | "clever" | ... (14 positive)
                    | "bad" | "dull" | "predictable" | ... (14 negative)
        verb       := "loved" | "enjoyed" | ... | "hated" | "loathed" | ...
        adj-neg    := "not" | "never" | "hardly"
        verb-neg   := "never" | "hardly"
        adj-int    := "very" | "really" | "quite" | ...
        verb-int   := "really" | "truly" | "absolutely" | "genuinely"
        hedge      := "fairly" | "rather" | "mostly" | "quite"
        neutral-adj:= "okay" | "average" | "ordinary" | ...

    A polar clause's sentiment is the polarity of its adjective or verb,
    flipped when it has a negator; a neutral clause is neutral.  The label
    is the sentiment of the decisive clause.  Intensifiers, hedges and
    openers never matter.  A review's clauses talk about different aspects.

    Why the words alone do not tell: a negator appears in a clause with
    probability 1/2 whatever the sentiment, so every polar word and every
    negator is as frequent under each label (a one-clause review's label is
    the XOR of adjective polarity and negation, which a linear model cannot
    represent).  In reviews with several clauses the clauses carry distinct
    sentiments in random positions: the same words in another order form an
    equally likely review of another label, so the bag of words of such a
    review carries no information about its label, even for a nonlinear
    model.  Binary reviews have 4 to 16 words (about 40% have one clause),
    three-clause reviews 14 to 22.

    Examples
    --------
    >>> from skrnn.datasets import make_movie_reviews
    >>> reviews = make_movie_reviews(n_samples=6, random_state=0)
    >>> reviews.shape
    (6, 2)
    >>> reviews["label"].value_counts().sort_index().to_dict()
    {'negative': 3, 'positive': 3}
    >>> reviews3 = make_movie_reviews(n_samples=9, neutral=True, random_state=0)
    >>> sorted(reviews3["label"].unique())
    ['negative', 'neutral', 'positive']
    """
    n_samples = _check_int(n_samples, "n_samples", min_val=1)
    neutral = _check_bool(neutral, "neutral")
    shuffle = _check_bool(shuffle, "shuffle")
    rng = check_random_state(random_state)

    sentiments = (-1, 0, 1) if neutral else (-1, 1)
    # Balanced labels, grouped (negative, [neutral,] positive) until shuffled.
    counts = np.full(len(sentiments), n_samples // len(sentiments))
    counts[: n_samples % len(sentiments)] += 1
    labels = np.repeat(sentiments, counts)
    if shuffle:
        labels = labels[rng.permutation(n_samples)]

    texts = []
    for label in labels:
        if neutral:
            n_clauses = 3
        else:
            n_clauses = 1 if rng.uniform() < _P_SINGLE_CLAUSE else 2
        texts.append(_review(rng, int(label), n_clauses))
    return pd.DataFrame({"text": texts, "label": [_SENTIMENT_NAMES[s] for s in labels]})


# ---------------------------------------------------------------------------
# Entity sentences
# ---------------------------------------------------------------------------
# Entity pools: many names share a word with a place, a company or a common
# noun, so only the context tells the tag.
_PERSONS = (
    "george washington", "denzel washington", "washington", "michael jordan", "jordan",
    "teddy roosevelt", "paris hilton", "paris", "harrison ford", "henry ford",
    "abraham lincoln", "lincoln", "michael jackson", "jackson", "theresa may",
    "bill gates", "victoria beckham", "chelsea clinton", "virginia woolf", "georgia",
    "rose", "marie curie", "ada lovelace", "nelson mandela", "alan turing",
)
_PLACES = (
    "washington", "jordan", "paris", "georgia", "virginia", "lincoln", "jackson",
    "chelsea", "turkey", "china", "london", "kenya", "peru", "berlin", "toronto",
    "new york", "lake victoria",
)
_ORGANISATIONS = (
    "apple", "amazon", "ford", "orange", "washington post", "chelsea", "microsoft",
    "unicef", "toyota", "nasa", "greenpeace", "red cross",
)
_ENTITY_POOLS = {"PER": _PERSONS, "LOC": _PLACES, "ORG": _ORGANISATIONS}

# Sentence templates: "{PER}", "{LOC}" and "{ORG}" are filled from the pools
# (every word of the filler gets that tag); the other words are tagged "O".
# Each context phrase belongs to one entity type only, and the last group
# uses ambiguous words (teddy, apple, turkey, china, orange, bill, rose, ford,
# may) in their common-noun or verb senses.
_ENTITY_TEMPLATES = (
    # people
    "{PER} was born in {LOC}",
    "{PER} gave a speech in {LOC}",
    "yesterday {PER} met {PER}",
    "{PER} married {PER} last spring",
    "a new biography of {PER} came out",
    "{PER} works for {ORG}",
    "{PER} paid the bill",
    "{PER} scored thirty points last night",
    "general {PER} crossed the river",
    "president {PER} signed the treaty in {LOC}",
    "{PER} ate an apple in {LOC}",
    "{PER} may visit {LOC} in may",
    "{PER} bought a teddy bear for {PER}",
    # places
    "we flew to {LOC} last summer",
    "the weather in {LOC} is mild",
    "she moved from {LOC} to {LOC}",
    "{LOC} is famous for its museums",
    "tourists crowded the streets of {LOC}",
    "the flight to {LOC} was delayed",
    # organisations
    "shares of {ORG} rose sharply",
    "{ORG} announced record profits",
    "{ORG} hired {PER} as chief executive",
    "{ORG} opened a new office in {LOC}",
    "the workers at {ORG} went on strike",
    # ambiguous words in their common senses
    "the children hugged their teddy bears",
    "she ate an apple and an orange",
    "we roasted a turkey for the holiday",
    "grandma keeps the good china in a cabinet",
    "the bill arrived after dinner",
    "the sun rose over the hills",
    "the cattle had to ford the stream",
    "you may sit by the window",
    "the roses bloom in may",
    "he painted the door orange",
)


def make_entity_sentences(n_samples=500, *, random_state=None):
    """Generate sentences tagged with entity types that only context decides.

    A small named-entity tagging corpus for sequence taggers: each sentence
    is a template whose slots are filled with people, places and
    organisations chosen so that the same word often has several meanings:
    'teddy roosevelt' is tagged PER PER but 'teddy bears' O O; 'washington'
    is a person ('general washington crossed the river'), a place ('we flew
    to washington') or part of an organisation ('shares of washington post
    rose sharply'); 'jordan', 'paris', 'lincoln', 'ford', 'chelsea', 'apple',
    'turkey', 'china', 'may', 'bill' and 'rose' are ambiguous as well.  A
    per-word lookup therefore cannot tag the corpus, while the tags are a
    deterministic function of the whole sentence.

    Parameters
    ----------
    n_samples : int, default=500
        Number of sentences.
    random_state : int, RandomState instance or None, default=None
        Seed of the templates and fillers drawn.

    Returns
    -------
    sentences : list of length n_samples of list of str
        Lowercase tokens (capitalisation would give names away), 4 to 9
        per sentence.
    tags : list of length n_samples of list of str
        One tag per token, aligned with ``sentences``: 'PER' (person),
        'LOC' (location), 'ORG' (organisation) or 'O' (other).  Every word of
        a multi-word name gets the entity's tag (no B-/I- prefixes).

    See Also
    --------
    make_movie_reviews : Sentence labels decided by word order.

    Notes
    -----
    Each context phrase ('was born in', 'shares of', 'flew to', ...) goes
    with one entity type only.  Some cues follow the ambiguous word ('teddy
    bears', 'washington post'), so a tagger reading left to right must
    commit before it sees them; a bidirectional network sees both sides.

    Examples
    --------
    >>> from skrnn.datasets import make_entity_sentences
    >>> sentences, tags = make_entity_sentences(n_samples=3, random_state=0)
    >>> [len(s) == len(t) for s, t in zip(sentences, tags)]
    [True, True, True]
    >>> sentences[0]
    ['michael', 'jordan', 'was', 'born', 'in', 'georgia']
    >>> tags[0]
    ['PER', 'PER', 'O', 'O', 'O', 'LOC']
    """
    n_samples = _check_int(n_samples, "n_samples", min_val=1)
    rng = check_random_state(random_state)

    sentences, tags = [], []
    for _ in range(n_samples):
        template = _choice(rng, _ENTITY_TEMPLATES)
        words, labels = [], []
        for part in template.split():
            if part.startswith("{"):
                entity_type = part[1:-1]
                filler = _choice(rng, _ENTITY_POOLS[entity_type]).split()
                words += filler
                labels += [entity_type] * len(filler)
            else:
                words.append(part)
                labels.append("O")
        sentences.append(words)
        tags.append(labels)
    return sentences, tags
