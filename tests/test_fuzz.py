"""Property fuzz of the divergence registry and the chunked losses: random shapes, masks, temperatures, logits up to
1e4 and -inf entries. No NaN, no negative divergence beyond rounding, errors only as ValueError naming an argument."""
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distillnb.chunked import chunked_divergence, naive_divergence
from distillnb.divergences import DIVERGENCES

NONNEG = {"forward_kl", "reverse_kl", "js", "tv", "skew_forward_kl", "skew_reverse_kl", "taid"}  # soft_ce is >= entropy
PARAMS = {"js": "beta", "skew_forward_kl": "alpha", "skew_reverse_kl": "alpha", "taid": "t", "taid_ce": "t"}
def fast(n):
    "Deterministic, no deadline (shared CI machines differ in speed), `n` examples."
    return settings(deadline=None, derandomize=True, database=None, max_examples=n, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def case(draw, max_v=12):
    "Student and teacher logits with a shared shape, a mask, a temperature and the divergence's parameter."
    lead = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    V = draw(st.integers(1, max_v))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0, 1e4]))
    g = torch.Generator().manual_seed(seed)
    zs = scale * torch.randn(*lead, V, generator=g, dtype=torch.float64)
    zt = scale * torch.randn(*lead, V, generator=g, dtype=torch.float64)
    if V > 1 and draw(st.booleans()):  # -inf vocabulary entries (never a whole row, never only in one model's support)
        k = draw(st.integers(1, V - 1))
        cols = torch.randperm(V, generator=g)[:k]
        zs[..., cols] = -math.inf
        zt[..., cols] = -math.inf
    mask = (torch.rand(*lead, generator=g) > 0.3) if lead and draw(st.booleans()) else None
    return zs, zt, mask, draw(st.sampled_from([0.5, 1.0, 2.0, 7.0])), draw(st.floats(0.0, 1.0))


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
@fast(1100)
@given(c=case(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_registry_is_finite_and_nonnegative(name, c, reduction):
    zs, zt, mask, T, w = c
    kw = {PARAMS[name]: w} if name in PARAMS else {}
    a = zs.clone().requires_grad_()
    v = DIVERGENCES[name](a, zt, mask=mask, temperature=T, reduction=reduction, **kw)
    assert torch.isfinite(v).all(), (name, v)
    if name in NONNEG: assert (v >= -1e-9 * max(1.0, float(zs.abs().nan_to_num(0, 0, 0).max()))).all(), (name, v)
    v.sum().backward()
    assert torch.isfinite(a.grad).all(), name
    if mask is not None:  # masked positions get no gradient
        assert (a.grad[~mask] == 0).all()


@fast(1500)
@given(c=case(max_v=9), name=st.sampled_from(sorted(DIVERGENCES)), chunk=st.integers(1, 7))
def test_chunked_equals_naive_on_random_cases(c, name, chunk):
    zs, zt, mask, T, w = c
    if zs.ndim < 2 or not torch.isfinite(zs).all():  # chunked works from hidden states: finite logits only here
        zs = zs.nan_to_num(0, 0, 0).reshape(-1, zs.shape[-1]); zt = zt.nan_to_num(0, 0, 0).reshape(-1, zt.shape[-1])
        mask = None
    kw = {PARAMS[name]: w} if name in PARAMS else {}
    H, V = zs.shape[-1] + 1, zs.shape[-1]
    g = torch.Generator().manual_seed(V)
    Ws, Wt = torch.randn(V, H, generator=g, dtype=torch.float64), torch.randn(V, H, generator=g, dtype=torch.float64)
    hs = torch.randn(*zs.shape[:-1], H, generator=g, dtype=torch.float64) * min(30.0, float(zs.abs().max()) + 1e-3)
    ht = torch.randn(*zs.shape[:-1], H, generator=g, dtype=torch.float64)
    a, b = hs.clone().requires_grad_(), hs.clone().requires_grad_()
    x = chunked_divergence(a, Ws, ht, Wt, divergence=name, mask=mask, temperature=T, chunk_size=chunk, **kw)
    y = naive_divergence(b, Ws, ht, Wt, divergence=name, mask=mask, temperature=T, **kw)
    x_, y_ = x.detach(), y.detach()
    assert torch.isfinite(x_) and abs(float(x_ - y_)) <= 1e-8 * max(1.0, abs(float(y_))), (name, x_, y_)
    x.backward(); y.backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-7, atol=1e-9)


BAD = [
    (lambda f: f(torch.zeros(3, 4), torch.zeros(3, 5)), "`teacher_logits`"),
    (lambda f: f(torch.zeros(3, 4), torch.zeros(3, 4), mask=torch.ones(2, dtype=torch.bool)), "`mask`"),
    (lambda f: f(torch.zeros(3, 4), torch.zeros(3, 4), temperature=0.0), "`temperature`"),
    (lambda f: f(torch.zeros(3, 4), torch.zeros(3, 4), temperature=float("nan")), "`temperature`"),
    (lambda f: f(torch.zeros(3, 4), torch.zeros(3, 4), reduction="avg"), "`reduction`"),
    (lambda f: f(torch.full((3, 4), float("nan")), torch.zeros(3, 4)), "`student_logits`"),
    (lambda f: f(torch.zeros(3, 4), torch.full((3, 4), -math.inf)), "`teacher_logits`"),
    (lambda f: f([[0.0]], torch.zeros(1, 1)), "`student_logits`"),
]


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
@pytest.mark.parametrize("bad,arg", BAD, ids=[a for _, a in BAD])
def test_bad_input_is_a_named_value_error(name, bad, arg):
    with pytest.raises(ValueError, match=arg.replace("`", "`")):
        bad(DIVERGENCES[name])


@pytest.mark.parametrize("name", sorted(PARAMS))
@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "0.5"])
def test_bad_parameter_is_named(name, value):
    with pytest.raises(ValueError, match=f"`{PARAMS[name]}`"):
        DIVERGENCES[name](torch.zeros(2, 3), torch.zeros(2, 3), **{PARAMS[name]: value})
