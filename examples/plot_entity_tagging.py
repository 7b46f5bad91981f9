"""
Tagging names with a bidirectional tagger
=========================================

:class:`skrnn.RNNSequenceTagger` gives one label per token. In the sentences of
:func:`skrnn.datasets.make_entity_sentences` the same word takes different tags
depending on context -- "teddy roosevelt" is a person, "teddy bears" are not --
and sometimes the cue comes *after* the word, so a tagger that also reads
backwards (``bidirectional=True``) does better.
"""

# %%
from sklearn.pipeline import make_pipeline

from skrnn import RNNSequenceTagger, TextOneHotEncoder
from skrnn.datasets import make_entity_sentences

sentences, tags = make_entity_sentences(1500, random_state=0)
print(sentences[0], tags[0])


def tagger(bidirectional):
    # Pre-tokenised sentences go through the encoder untouched: one step per token.
    return make_pipeline(
        TextOneHotEncoder(),
        RNNSequenceTagger("gru", (32,), bidirectional=bidirectional, embedding_dim=16,
                          learning_rate_init=0.01, max_iter=15, random_state=0),
    )


results = {}
for bidirectional in (False, True):
    model = tagger(bidirectional).fit(sentences[:1200], tags[:1200])
    results[bidirectional] = model
    print(f"bidirectional={bidirectional}: per-step accuracy "
          f"{model.score(sentences[1200:], tags[1200:]):.3f}")

# %%
# Tagged held-out sentences (bidirectional model):
model = results[True]
for words, predicted in zip(sentences[1200:1206], model.predict(sentences[1200:1206])):
    print(" ".join(f"{w}/{t}" if t != "O" else w for w, t in zip(words, predicted)))
