"""Feature extractors, found by name in a registry (see :mod:`saz.features.base`)."""

from saz.features.base import FEATURES, Feature, feature_from_config, get_feature, register
from saz.features import logmel, melpatches, mert, mfcc, music2vec, musichubert, openmic_vggish, pcen, stats, vggish, wav2vec2  # noqa: F401  (registers the extractors)
from saz.features.cache import FeatureCache

__all__ = ["FEATURES", "Feature", "FeatureCache", "feature_from_config", "get_feature", "register"]
