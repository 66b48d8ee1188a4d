"""Did-you-mean for the names people bring from PyTorch, Keras and Caffe."""

from __future__ import annotations

import re

from .model import Fn, Kind

_KIND_NAMES = {k.value for k in Kind}
_FNS = {f.value.replace("_", ""): f.value for f in Fn}
_SUFFIX = re.compile(r"(?<=[a-z])[123]d$")

TYPES: dict[str, str] = {
    **dict.fromkeys(("linear", "lazylinear", "dense", "fullyconnected", "innerproduct"), "'fc'"),
    **dict.fromkeys(("convolution", "convolutional", "lazyconv"), "'conv'"),
    **dict.fromkeys(
        (
            "convtranspose",
            "conv1dtranspose",
            "conv2dtranspose",
            "conv3dtranspose",
            "convolutiontranspose",
            "deconvolution",
            "transposedconv",
        ),
        "'deconv'",
    ),
    **dict.fromkeys(("maxpool", "maxpooling"), "'pool' with 'mode: max'"),
    **dict.fromkeys(("avgpool", "averagepool", "avgpooling", "averagepooling"), "'pool' with 'mode: avg'"),
    **dict.fromkeys(
        ("adaptiveavgpool", "adaptivemaxpool"), "'pool' with 'output' (adaptive pooling), or 'global_pool'"
    ),
    **dict.fromkeys(("globalaveragepooling", "globalavgpool", "globalavgpooling"), "'global_pool'"),
    **dict.fromkeys(("globalmaxpooling", "globalmaxpool"), "'global_pool' with 'mode: max'"),
    **dict.fromkeys(("batchnorm", "batchnormalization", "batchnormalisation"), "'bn'"),
    **dict.fromkeys(("activation", "nonlinearity"), "'act'"),
    **dict.fromkeys(("layernorm", "layernormalization"), "'layer_norm'"),
    **dict.fromkeys(("groupnorm", "groupnormalization"), "'group_norm'"),
    **dict.fromkeys(("instancenorm", "instancenormalization"), "'instance_norm'"),
    "layerscale": "'scale'",
    **{name: f"'act' with 'fn: {fn}'" for name, fn in _FNS.items()},
    "swish": "'act' with 'fn: silu'",
    **dict.fromkeys(("upsampling", "interpolate", "resize"), "'upsample'"),
    **dict.fromkeys(("reorg", "spacetodepth"), "'pixel_unshuffle'"),
    "depthtospace": "'pixel_shuffle'",
    "view": "'reshape'",
    **dict.fromkeys(("zeropad", "zeropadding", "padding"), "'pad'"),
    "reflectionpad": "'pad' with 'mode: reflect'",
    "replicationpad": "'pad' with 'mode: replicate'",
    "circularpad": "'pad' with 'mode: circular'",
    **dict.fromkeys(("cropping", "narrow"), "'crop'"),
    "centercrop": "'crop' with 'size' (a centre crop)",
    **dict.fromkeys(("localresponsenorm", "localresponsenormalization"), "'lrn'"),
    "channelshuffle": "'channel_shuffle'",
    **dict.fromkeys(("concatenate", "concatenation", "cat", "route"), "'concat'"),
    **dict.fromkeys(("sum", "eltwise", "residual", "shortcut"), "'add'"),
    "multiply": "'mul'",
    **dict.fromkeys(("chunk", "slice"), "'split'"),
    "merge": "'add' or 'concat'",
}
"""Layer type names from other frameworks, lower case without _ - or spaces or a 1d/2d/3d suffix."""

KEYS: dict[str, tuple[str, ...]] = {
    "kernel": ("size",),
    "kernelsize": ("size",),
    "ksize": ("size",),
    "poolsize": ("size",),
    "padding": ("pad",),
    "outchannels": ("filters",),
    "numfilters": ("filters",),
    "channels": ("filters",),
    "numoutput": ("filters", "units"),
    "outfeatures": ("units",),
    "strides": ("stride",),
    "dilationrate": ("dilation",),
    "usebias": ("bias",),
    "ceilmode": ("ceil",),
    "countincludepad": ("count_pad",),
    "outputpadding": ("output_pad",),
    "outputsize": ("output",),
    "rate": ("p",),
    "activation": ("fn",),
    "function": ("fn",),
    "cropping": ("crop",),
    "localsize": ("size",),
}
"""Key names from other frameworks, normalised as TYPES, with the keys they may mean."""

_FOLLOWED = frozenset(("inchannels", "infeatures", "numfeatures"))

VALUES: dict[str, str] = {
    "swish": "silu",
    "hswish": "hardswish",
    "hsigmoid": "hardsigmoid",
    "lrelu": "leaky_relu",
}
"""Value names from other frameworks (normalised as TYPES) and the value convcalc spells them with."""


def _normal(word: str) -> str:
    return _SUFFIX.sub("", re.sub(r"[\s_-]", "", word.lower()))


def type_hint(word: str) -> str:
    """What an unknown layer type probably means, as text to follow its name; empty if unknown."""
    name = _normal(word)
    if name in _KIND_NAMES:
        return f"; did you mean '{name}'?"
    if name in TYPES:
        return f"; did you mean {TYPES[name]}?"
    return ""


def value_hint(word: str, choices: tuple[str, ...]) -> str | None:
    """The choice a value from another framework means (`swish` is `silu`, `LeakyReLU` is `leaky_relu`)."""
    name = _normal(word)
    spelled = {_normal(c): c for c in choices}
    found = spelled.get(name) or VALUES.get(name)
    return found if found in choices else None


def key_hint(word: str, kind: Kind, allowed: tuple[str, ...], value: object) -> str:
    """What an unknown key of a `kind` layer probably means; empty if unknown."""
    name = _normal(word)
    if name in _FOLLOWED:
        return "; convcalc follows the input's channels and features itself: drop it"
    if name == "activation" and kind is not Kind.ACT:
        fn = value if isinstance(value, str) and value in {f.value for f in Fn} else "..."
        return f"; put the activation in a layer of its own after this one: {{type: act, fn: {fn}}}"
    for key in KEYS.get(name, ()):
        if key in allowed:
            return f"; did you mean '{key}'?"
    return ""
