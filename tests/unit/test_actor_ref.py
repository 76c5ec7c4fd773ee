import pickle

from schemas.article import ActorRef


def test_an_actor_pickles_as_its_four_values_and_comes_back_equal() -> None:
    actor = ActorRef(id="person:vladimir-putin", name="Władimir Putin", type="person", country="RUS")
    data = pickle.dumps(actor, protocol=pickle.HIGHEST_PROTOCOL)
    assert pickle.loads(data) == actor and hash(pickle.loads(data)) == hash(actor)
    assert b"__pydantic_fields_set__" not in data, "not the model's state dict"
    assert pickle.loads(pickle.dumps(ActorRef(id="RUS", name="Russia", type="country"))).country is None
