"""What one training epoch feeds a model: chunks of consecutive units, whole sessions (a CCC per
session), or independent units (sequences of one)."""
import numpy as np
import torch

from pipeline.sequences import SessionSequence, predict
from pipeline.training_batches import training_batches, training_chunks


def sessions(lengths) -> list[SessionSequence]:
    return [SessionSequence(f"s{k}", "train", np.arange(n, dtype=float),
                            np.full((n, 2), k, np.float32) + np.arange(n, dtype=np.float32)[:, None],
                            np.full((n, 1), k, np.float32)) for k, n in enumerate(lengths)]


def test_whole_sessions_are_batched_only_with_sessions_of_their_length():
    train = sessions([5, 7, 5, 5, 7])
    batches = training_batches(np.random.default_rng(0), train, chunk=0, batch=2)
    seen = []
    for x, mask, y in batches:
        x, mask = x["x"], mask["x"]
        assert x.shape[0] <= 2 and len({*y[:, :, 0].min(axis=1)}) == x.shape[0] and mask.shape == x.shape[:2]
        for xi, yi in zip(x, y):
            k = int(yi[0, 0])
            np.testing.assert_array_equal(xi, train[k].x["x"])  # a whole session, in order
            seen.append(k)
    assert sorted(seen) == [0, 1, 2, 3, 4]  # every session once per epoch
    assert sorted(x["x"].shape[1] for x, _, _ in batches) == [5, 5, 7]  # 3 sessions of 5: batches of 2 + 1


def test_chunked_batches_are_the_chunks_cut_in_batch_size_slices():
    train = sessions([30, 41])
    chunks = training_chunks(np.random.default_rng(3), train, 10)
    batches = list(training_batches(np.random.default_rng(3), train, chunk=10, batch=3))
    np.testing.assert_array_equal(np.concatenate([x["x"] for x, _, _ in batches]), np.stack([c[0]["x"] for c in chunks]))
    assert [len(y) for _, _, y in batches][:-1] == [3] * (len(batches) - 1)
    # every chunk is 10 consecutive units of one session (x = session index + position)
    for x, _, y in chunks:
        start = x["x"][0, 0] - y[0, 0]
        np.testing.assert_array_equal(x["x"][:, 0], y[0, 0] + start + np.arange(10))


def test_independent_units_are_predicted_one_at_a_time():
    torch.manual_seed(0)
    rnn = torch.nn.GRU(2, 3, batch_first=True)

    class Model(torch.nn.Module):
        def forward(self, x):
            return rnn(x)[0]

    [s] = sessions([4])
    together = predict(Model(), s, torch.device("cpu"))
    alone = predict(Model(), s, torch.device("cpu"), independent=True)
    for t in range(4):  # each unit as its own sequence of one
        expected = rnn(torch.from_numpy(s.x["x"][t:t + 1])[None])[0][0, 0].detach().numpy()
        np.testing.assert_allclose(alone[t], expected, atol=1e-6)
    assert not np.allclose(together[1:], alone[1:])  # the sequence model carries context otherwise
