"""Counting conventions: what torchinfo, ptflops, fvcore, thop and PyTorch's FlopCounterMode count per layer.

Each rule is read from the tool's source (the README names the file); `count` gives one layer's number
under a convention at batch 1, so the sum over a network is exactly the tool's headline total.
"""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
import math
from collections.abc import Callable

from .formulas import number
from .kinds import Kind
from .model import Convention as Convention  # the enum lives where start-up already loads it
from .model import Fn, Network, PoolMode, Resample, Resolved
from .values import frozen

UNIT = {c: "MACs" for c in Convention} | {
    Convention.FVCORE: "flops (fvcore: 1 per MAC)",
    Convention.PYTORCH: "FLOPs",
}
"""What each convention calls its number."""


class Call(enum.Enum):
    """How the PyTorch model runs a layer: the module hooks of ptflops and thop see only modules."""

    MODULE = "module"
    FUNCTION = "function"
    """torch.nn.functional (F.relu): ptflops counts the patched functions, thop nothing."""
    METHOD = "method"
    """A tensor method (x.mean([2, 3])): neither."""
    LINEAR = "linear module"
    """An nn.Linear over channels-last values, which a spec writes as a 1x1 conv (ConvNeXt's MLP)."""
    SUBCLASS = "subclass"
    """A subclass of a hooked module (ConvNeXt's LayerNorm2d): hooks found by exact type miss it."""


CALLS: dict[str, dict[str, Call]] = {
    "densenet*": {"relu": Call.FUNCTION, "avgpool": Call.FUNCTION},
    "googlenet": {"*.relu": Call.FUNCTION},
    "inception_v3": {"*.relu": Call.FUNCTION, "*.pool": Call.FUNCTION},
    "mobilenet_v2": {"avgpool": Call.FUNCTION},
    "mnasnet*": {"mean": Call.METHOD},
    "shufflenet*": {"mean": Call.METHOD},
    "convnext*": {
        "*.block.[35]": Call.LINEAR,
        "features.0.1": Call.SUBCLASS,
        "features.[246].0": Call.SUBCLASS,
        "classifier.0": Call.SUBCLASS,
    },
}
"""A spec says nothing of how torchvision's forward calls a layer: these layers of the shipped torchvision
specs (by spec name, then layer name, as fnmatch patterns) are called otherwise than as the module of
their kind; every other layer is a module call."""


@frozen
class Part:
    """One term of a layer's count: what is counted and how many."""

    what: str
    count: int


Parts = tuple[Part, ...]
Rule = Callable[[Resolved, Call], Parts]


def call_of(network_name: str | None, layer_name: str) -> Call:
    """How torchvision calls a layer of a shipped spec (CALLS); a module call otherwise."""
    for spec, layers in CALLS.items():
        if network_name is not None and fnmatch.fnmatchcase(network_name, spec):
            for pattern, call in layers.items():
                if fnmatch.fnmatchcase(layer_name, pattern):
                    return call
    return Call.MODULE


def _spatial(r: Resolved) -> int:
    return math.prod(r.output.spatial)


def _bias(r: Resolved) -> bool:
    return bool(getattr(r.layer, "bias", False))


def _affine(r: Resolved) -> bool:
    return bool(getattr(r.layer, "affine", False))


def _macs(r: Resolved, call: Call) -> Parts:
    return (Part("MACs", r.macs),)


def _macs_bias(r: Resolved, call: Call) -> Parts:
    """MACs and one add per output value for the bias."""
    return (Part("MACs", r.macs), Part("bias adds", r.output.elements if _bias(r) else 0))


def _params_times_positions(r: Resolved, call: Call) -> Parts:
    """torchinfo's conv: (weight + bias) x output positions: a conv's MACs and bias adds; a deconv's weight
    at its output positions, not its input's; an nn.Linear at every position: its parameters, once."""
    if call is Call.LINEAR:
        return (Part("nn.Linear parameters x batch (not x positions)", r.params),)
    bias = r.output.channels if _bias(r) else 0
    weights = (r.params - bias) * _spatial(r)
    what = "weights x output positions" if r.layer.kind is Kind.DECONV else "MACs"
    return (Part(what, weights), Part("bias adds", bias * _spatial(r)))


def _ti_fc(r: Resolved, call: Call) -> Parts:
    """torchinfo's linear: its parameters x the batch (the MACs of a classifier, and one add per bias)."""
    bias = r.output.channels if _bias(r) else 0
    return (Part("MACs", r.params - bias), Part("bias adds", bias))


def _params(r: Resolved, call: Call) -> Parts:
    """torchinfo's every other layer: its weight and bias parameters, once per example."""
    return (Part("norm/PReLU parameters x batch", r.params),)


def _module(rule: Rule) -> Rule:
    """A rule that only a module hook applies (found by exact type: a subclass is missed)."""
    return lambda r, call: rule(r, call) if call in (Call.MODULE, Call.LINEAR) else ()


def _pt_norm(r: Resolved, call: Call) -> Parts:
    """ptflops: the input's values, twice with an affine module (`module.affine`; LayerNorm has none)."""
    twice = r.layer.kind is not Kind.LAYER_NORM and _affine(r)
    return (Part("normalisation", r.input.elements * (2 if twice else 1)),)


_PT_TWICE = {Fn.RELU, Fn.ELU, Fn.GELU, Fn.GELU_TANH}
"""Hooked modules whose forward calls a patched function: counted by both (pytorch_engine.py)."""
_PT_HOOK = {Fn.RELU6, Fn.LEAKY_RELU}
"""Hooked modules whose forward calls an unpatched function (ReLU6 calls F.hardtanh)."""
_PT_PATCHED = {Fn.RELU, Fn.ELU, Fn.GELU, Fn.GELU_TANH, Fn.SILU, Fn.SOFTMAX, Fn.SOFTMAX2D}
"""The activations whose F. function ptflops patches."""


def _pt_act(r: Resolved, call: Call) -> Parts:
    """ptflops: the module hook and the patched function each count the values."""
    fn = getattr(r.layer, "fn", Fn.RELU)
    n = r.output.elements
    if call is Call.METHOD:
        return ()
    if call is Call.MODULE and fn in _PT_TWICE:
        return (Part("activation (module hook)", n), Part("activation again (patched F.)", n))
    if (call is Call.MODULE and fn in _PT_HOOK) or fn in _PT_PATCHED:
        return (Part("activation", n),)
    return ()


def _pt_twice(what: str, of_input: bool) -> Rule:
    """A hooked module whose forward calls a patched function (pools, PReLU, Upsample): twice."""

    def rule(r: Resolved, call: Call) -> Parts:
        n = r.input.elements if of_input else r.output.elements
        if call is Call.MODULE:
            return (Part(f"{what} (module hook)", n), Part(f"{what} again (patched F.)", n))
        return (Part(what, n),) if call is Call.FUNCTION else ()

    return rule


def _pt_lrn(r: Resolved, call: Call) -> Parts:
    """ptflops: no hook for LocalResponseNorm, but F.local_response_norm calls patched ops: two
    Tensor.mul and a Tensor.add over the input, and an average pool over the squared input padded
    across the channels, (C + size - 1) x positions."""
    if call is Call.METHOD:
        return ()
    size = int(getattr(r.layer, "size", 1))
    padded = (r.input.channels + size - 1) * math.prod(r.input.spatial)
    return (Part("Tensor.mul, .mul, .add", 3 * r.input.elements), Part("pooling (patched F.)", padded))


def _fv_bn(r: Resolved, call: Call) -> Parts:
    """fvcore's batch norm at inference: 1 per value, 2 with the affine transform."""
    return (Part("batch norm", r.input.elements * (2 if _affine(r) else 1)),)


def _fv_norm(r: Resolved, call: Call) -> Parts:
    """fvcore's group, layer and instance norm: 5 per value with the affine transform, else 4."""
    return (Part("normalisation", r.input.elements * (5 if _affine(r) else 4)),)


def _fv_avg(r: Resolved, call: Call) -> Parts:
    """fvcore counts aten::adaptive_avg_pool2d only: 1 per input value (not x.mean, not 1-D or 3-D)."""
    pool = r.layer
    adaptive = r.layer.kind is Kind.GLOBAL_POOL or getattr(pool, "output", None) is not None
    if call is Call.METHOD or not adaptive or getattr(pool, "mode", None) is not PoolMode.AVG:
        return ()
    return (Part("adaptive average pool", r.input.elements),) if len(r.input.spatial) == 2 else ()


def _fv_upsample(r: Resolved, call: Call) -> Parts:
    """fvcore: 2-D nearest 1 per output value, bilinear 4."""
    per = {Resample.NEAREST: 1, Resample.BILINEAR: 4}.get(getattr(r.layer, "mode", Resample.NEAREST), 0)
    return (Part("upsample", per * r.output.elements),) if len(r.output.spatial) == 2 and per else ()


def _th_norm(r: Resolved, call: Call) -> Parts:
    """thop: 2 per input value, twice that with an affine transform."""
    return (Part("normalisation", 2 * r.input.elements * (2 if _affine(r) else 1)),)


def _th_deconv(r: Resolved, call: Call) -> Parts:
    """thop counts a transposed conv as a conv: output values x C_in/groups x kernel."""
    layer = r.layer
    groups = int(getattr(layer, "groups", 1))
    kernel = math.prod(a.size for a in r.axes)
    return (
        Part(
            "output values x C_in/groups x kernel", r.output.elements * (r.input.channels // groups) * kernel
        ),
    )


def _th_pool(r: Resolved, call: Call) -> Parts:
    """thop: max pools 0; an average pool 1 per output value; an adaptive one (in/out + 1) per output value,
    in float64."""
    if getattr(r.layer, "mode", PoolMode.AVG) is not PoolMode.AVG:
        return ()
    if r.layer.kind is Kind.POOL and getattr(r.layer, "output", None) is None:
        return (Part("average pool", r.output.elements),)
    kernel = 1.0
    for n, o in zip(r.input.spatial, r.output.spatial, strict=True):
        kernel *= n / o
    return (Part("adaptive average pool (window + 1)", int((kernel + 1) * r.output.elements)),)


def _th_act(r: Resolved, call: Call) -> Parts:
    """thop: only nn.Softmax costs (3C - 1 per position); ReLU and ReLU6 are zero ops, the rest unhooked."""
    if getattr(r.layer, "fn", None) is not Fn.SOFTMAX:
        return ()
    c = r.input.channels
    return (Part("softmax", r.input.elements // c * (3 * c - 1)),)


def _th_upsample(r: Resolved, call: Call) -> Parts:
    """thop: nearest 1 per output value, linear 5, bilinear 11, bicubic 259; trilinear 0."""
    per = {Resample.NEAREST: 1, Resample.LINEAR: 5, Resample.BILINEAR: 11, Resample.BICUBIC: 259}
    n = per.get(getattr(r.layer, "mode", Resample.NEAREST), 0) * r.output.elements
    return (Part("upsample", n),) if n else ()


def _flops(r: Resolved, call: Call) -> Parts:
    """FlopCounterMode: a multiply and an add per MAC, no bias."""
    return (Part("MACs", r.macs), Part("x2 (FLOPs)", r.macs))


RULES: dict[Convention, dict[Kind, Rule]] = {
    Convention.CONVCALC: {Kind.CONV: _macs, Kind.DECONV: _macs, Kind.FC: _macs},
    Convention.TORCHINFO: {
        Kind.CONV: _params_times_positions,
        Kind.DECONV: _params_times_positions,
        Kind.FC: _ti_fc,
        **{k: _params for k in (Kind.BN, Kind.LAYER_NORM, Kind.GROUP_NORM, Kind.INSTANCE_NORM, Kind.PRELU)},
    },
    Convention.PTFLOPS: {
        Kind.CONV: _module(_macs_bias),
        Kind.DECONV: _module(_macs_bias),
        Kind.FC: _module(_macs_bias),
        **{k: _module(_pt_norm) for k in (Kind.BN, Kind.LAYER_NORM, Kind.GROUP_NORM, Kind.INSTANCE_NORM)},
        Kind.ACT: _pt_act,
        Kind.PRELU: _pt_twice("activation", of_input=False),
        Kind.POOL: _pt_twice("pooling", of_input=True),
        Kind.GLOBAL_POOL: _pt_twice("pooling", of_input=True),
        Kind.UPSAMPLE: _pt_twice("upsample", of_input=False),
        Kind.LRN: _pt_lrn,
    },
    Convention.PTFLOPS_ATEN: {Kind.CONV: _macs_bias, Kind.DECONV: _macs_bias, Kind.FC: _macs_bias},
    Convention.FVCORE: {
        Kind.CONV: _macs,
        Kind.DECONV: _macs,
        Kind.FC: _macs,
        Kind.BN: _fv_bn,
        **{k: _fv_norm for k in (Kind.LAYER_NORM, Kind.GROUP_NORM, Kind.INSTANCE_NORM)},
        Kind.POOL: _fv_avg,
        Kind.GLOBAL_POOL: _fv_avg,
        Kind.UPSAMPLE: _fv_upsample,
    },
    Convention.THOP: {
        Kind.CONV: _module(_macs),
        Kind.DECONV: _module(_th_deconv),
        Kind.FC: _module(_macs),
        **{k: _module(_th_norm) for k in (Kind.BN, Kind.LAYER_NORM, Kind.INSTANCE_NORM)},
        Kind.PRELU: _module(lambda r, call: (Part("activation", r.input.elements),)),
        Kind.ACT: _module(_th_act),
        Kind.POOL: _module(_th_pool),
        Kind.GLOBAL_POOL: _module(_th_pool),
        Kind.UPSAMPLE: _module(_th_upsample),
    },
    Convention.PYTORCH: {Kind.CONV: _flops, Kind.DECONV: _flops, Kind.FC: _flops},
}
"""Per convention, the kinds it counts; every kind not listed counts 0 (adds, concatenations, reshapes...)."""


def parts(r: Resolved, convention: Convention, call: Call = Call.MODULE) -> Parts:
    """What a convention counts of one layer, term by term (zero terms left out)."""
    rule = RULES[convention].get(r.layer.kind)
    return tuple(p for p in (rule(r, call) if rule else ()) if p.count)


def count(r: Resolved, convention: Convention, call: Call = Call.MODULE) -> int:
    """One layer's count under a convention, at batch 1."""
    return sum(p.count for p in parts(r, convention, call))


def counts(network: Network, convention: Convention) -> tuple[int, ...]:
    """Every layer's count under a convention, with the calls of CALLS."""
    name = network.spec.name
    return tuple(count(r, convention, call_of(name, r.layer.name)) for r in network.layers)


def total(network: Network, convention: Convention) -> int:
    """The network's total under a convention: the tool's headline number."""
    return sum(counts(network, convention))


def applied(network: Network, convention: Convention) -> Network:
    """The network with each layer's MACs replaced by its count under a convention (so the table's MACs
    column, its totals and the JSON's follow it); convcalc's convention is the network itself."""
    if convention is Convention.CONVCALC:
        return network
    name = network.spec.name
    layers = tuple(
        dataclasses.replace(r, macs=count(r, convention, call_of(name, r.layer.name))) for r in network.layers
    )
    return dataclasses.replace(network, layers=layers)


def _sum_text(convention: Convention, terms: Parts, total: int) -> str:
    shown = " + ".join(f"{p.what} {number(p.count)}" for p in terms)
    return f"{convention.value} {number(total)}" + (
        f" = {shown}" if len(terms) > 1 else f" ({shown})" if terms else ""
    )


_SAID = {
    Call.FUNCTION: "torchvision calls it as a function",
    Call.METHOD: "torchvision calls it as a tensor method",
    Call.LINEAR: "an nn.Linear in torchvision",
    Call.SUBCLASS: "a subclass in torchvision, which type-keyed hooks miss",
}


def explain_lines(r: Resolved, network_name: str | None) -> list[str]:
    """What every convention counts of one layer, term by term; one line if none counts anything."""
    call = call_of(network_name, r.layer.name)
    lines = []
    for convention in Convention:
        terms = parts(r, convention, call)
        if terms:
            lines.append(_sum_text(convention, terms, sum(p.count for p in terms)))
    where = "" if call is Call.MODULE else f" ({_SAID[call]})"
    return [line + where for line in lines] or [f"0 under every convention{where}"]


def reconcile(network: Network, convention: Convention) -> str:
    """The convention's total as the sum of its terms over every layer, beside convcalc's MACs."""
    name = network.spec.name
    sums: dict[str, int] = {}
    for r in network.layers:
        for p in parts(r, convention, call_of(name, r.layer.name)):
            sums[p.what] = sums.get(p.what, 0) + p.count
    terms = tuple(Part(what, n) for what, n in sums.items())
    text = _sum_text(convention, terms, sum(sums.values()))
    return text if convention is Convention.CONVCALC else f"{text}; convcalc {number(network.macs)} MACs"
