"""Registry of the new-physics models: name → model class (docs/models.md).

``get_model("light_vector_universal")`` returns a model with its default settings;
``get_model(name, **settings)`` one with other settings (e.g. another axis grid).
"""

from cevnsfast.models.electromagnetic import (
    ChargeRadiusMillicharge,
    MagneticMoment,
    TransitionMagneticMoment,
)
from cevnsfast.models.electroweak import NeutronRadius, WeakMixingAngle
from cevnsfast.models.generalised import GeneralisedInteractions
from cevnsfast.models.mediators import (
    LeptoquarkS1,
    LightScalar,
    LightTensor,
    LightVectorBminusL,
    LightVectorUniversal,
)
from cevnsfast.models.sterile import SterileOscillation
from cevnsfast.models.terms import Model

MODEL_CLASSES: dict[str, type[Model]] = {
    cls.name: cls
    for cls in (
        WeakMixingAngle,
        NeutronRadius,
        MagneticMoment,
        ChargeRadiusMillicharge,
        GeneralisedInteractions,
        LightVectorUniversal,
        LightVectorBminusL,
        LightScalar,
        LightTensor,
        LeptoquarkS1,
        SterileOscillation,
        TransitionMagneticMoment,
    )
}


def model_names() -> list[str]:
    """Names of every registered model, in order of the talk (simplest first)."""
    return list(MODEL_CLASSES)


def get_model(name: str, **settings) -> Model:
    """The model called ``name`` (with ``settings`` overriding its defaults)."""
    try:
        cls = MODEL_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; models: {', '.join(MODEL_CLASSES)}") from None
    return cls(**settings)
