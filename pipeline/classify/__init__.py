"""Topic rules, actor gazetteer and event modality: pure functions, every result explained."""

from pipeline.classify.actors import Actor
from pipeline.classify.engine import Classification, Classifier
from pipeline.classify.rules import TopicMatch

__all__ = ["Actor", "Classification", "Classifier", "TopicMatch"]
