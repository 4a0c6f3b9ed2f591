"""The public divergence API from the outside: bad inputs, dtypes, and use in an ordinary training loop."""
import math

import pytest
import torch

from distillnb.divergences import DIVERGENCES, get_divergence, sinkhorn, sinkhorn_cost

PARAMS = {"js": {"beta": 0.3}, "taid": {"t": 0.5}}
NAMES = sorted(DIVERGENCES)


def logits(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs_name_the_argument(name):
    f, kw = get_divergence(name), PARAMS.get(name, {})
    s, t = logits(4, 6), logits(4, 6, seed=1)
    with pytest.raises(ValueError, match=r"`teacher_logits`: expected shape \(4, 6\).*received \(4, 5\)"):
        f(s, t[:, :5], **kw)
    with pytest.raises(ValueError, match=r"`mask`: expected shape \(4,\).*received \(3,\)"):
        f(s, t, mask=torch.ones(3), **kw)
    bad = s.clone(); bad[1, 2] = float("nan")
    with pytest.raises(ValueError, match="`student_logits`: expected finite"):
        f(bad, t, **kw)
    bad = t.clone(); bad[0, 0] = float("inf")
    with pytest.raises(ValueError, match="`teacher_logits`: expected finite"):
        f(s, bad, **kw)
    for tau in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="`temperature`: expected a finite number > 0"):
            f(s, t, temperature=tau, **kw)
    with pytest.raises(ValueError, match="`reduction`"):
        f(s, t, reduction="batchmean", **kw)
    with pytest.raises(ValueError, match="`student_logits`: expected a torch.Tensor"):
        f(s.numpy(), t, **kw)


def test_unknown_divergence_lists_the_known_ones():
    with pytest.raises(ValueError, match="forward_kl") as e:
        get_divergence("kl")
    assert "received 'kl'" in str(e.value)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shapes_dtypes_and_reductions(name, dtype):
    f, kw = get_divergence(name), PARAMS.get(name, {})
    s, t = logits(2, 3, 7).to(dtype), logits(2, 3, 7, seed=1).to(dtype)
    per = f(s, t, reduction="none", **kw)
    assert per.shape == (2, 3) and per.dtype == dtype
    assert torch.allclose(f(s, t, **kw), per.mean())
    assert torch.allclose(f(s, t, reduction="sum", **kw), per.sum())
    m = torch.tensor([[1, 0, 1], [0, 0, 1]])
    assert torch.allclose(f(s, t, mask=m, **kw), per[m.bool()].mean())


@pytest.mark.parametrize("name", NAMES)
def test_float32_large_logits_are_finite(name):
    f, kw = get_divergence(name), PARAMS.get(name, {})
    s = (1e4 * logits(8, 50)).requires_grad_()
    v = f(s, 1e4 * logits(8, 50, seed=1), **kw)
    v.backward()
    assert torch.isfinite(v) and torch.isfinite(s.grad).all()


@pytest.mark.parametrize("name", [n for n in NAMES if n != "taid"])
def test_distillation_loop_lowers_the_loss(name):
    "A linear student trained on a teacher's logits with any divergence gets closer to the teacher (in forward KL)."
    f, kw = get_divergence(name), PARAMS.get(name, {})
    torch.manual_seed(0)
    X = torch.randn(256, 10)
    teacher, student = torch.nn.Linear(10, 5), torch.nn.Linear(10, 5)
    opt = torch.optim.Adam(student.parameters(), lr=0.05)
    with torch.no_grad():
        zt = 3 * teacher(X)
    gap = lambda: get_divergence("forward_kl")(student(X), zt).item()
    start = gap()
    for _ in range(100):
        loss = f(student(X), zt, temperature=2.0, **kw)
        opt.zero_grad(); loss.backward(); opt.step()
    assert gap() < 0.5 * start


def test_sinkhorn_bad_inputs():
    a = torch.full((2, 3), 1 / 3); c = torch.rand(2, 3, 3)
    with pytest.raises(ValueError, match=r"`cost`: expected shape \(B, n, m\)"):
        sinkhorn(a, a, c[0], 0.1)
    with pytest.raises(ValueError, match=r"`a`: expected shape \(2, 3\)"):
        sinkhorn(a[:1], a, c, 0.1)
    with pytest.raises(ValueError, match="`reg`"):
        sinkhorn(a, a, c, -1.0)
    assert sinkhorn_cost(a, a, c, 0.1).shape == (2,)
