"""People in the data under two identities: found, and kept out of training with the held-out ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import data_dir
from training.config import PRESETS, TrainConfig
from training.duplicates import (
    find_duplicates,
    has_duplicate,
    identity_means,
    read_duplicates,
    same_name,
    with_duplicates,
)


def test_names_match_when_misspelt_reordered_or_shortened():
    assert same_name("lfw:Nancy_Pelosi", "cfp:Nancy Peloci")
    assert same_name("lfw:Zhang_Ziyi", "cfp:Ziyi Zhang")
    assert same_name("lfw:Beyonce_Knowles", "cfp:Beyonce")
    assert same_name("lfw:Choi_Sung-hong", "lfw:Sung_Hong_Choi")


def test_similar_names_of_different_people_do_not_match():
    assert not same_name("lfw:Vitali_Klitschko", "cfp:Wladimir Kiltschko")  # brothers
    assert not same_name("lfw:Anna_Kournikova", "cfp:Jennifer Anniston")
    assert not same_name("celeba:1496", "celeba:1497")  # anonymous numbers name no one


def _unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_one_person_is_found_by_embedding_alone_or_by_embedding_and_name():
    rng = np.random.default_rng(0)
    base = _unit(rng.normal(size=(4, 128)))

    def at(u, squared_distance):
        w = _unit(rng.normal(size=128))
        w = _unit(w - (w @ u) * u)
        cos = 1 - squared_distance / 2
        return cos * u + np.sqrt(1 - cos**2) * w

    near = at(base[0], 0.01)  # one person whatever the names
    middling = at(base[1], 0.065)  # between the thresholds: the names decide
    names = ["lfw:Nancy_Pelosi", "lfw:Robert_Downey_Jr", "lfw:Someone_Else", "lfw:Another_One",
             "celeba:17", "cfp:Robert Downey", "cfp:Unrelated Name"]
    means = np.concatenate([base, [near, middling, middling]]).astype(np.float32)
    found = {(a, b) for a, b, _ in find_duplicates(names, means)}
    assert found == {("lfw:Nancy_Pelosi", "celeba:17"), ("lfw:Robert_Downey_Jr", "cfp:Robert Downey"),
                     ("cfp:Robert Downey", "cfp:Unrelated Name")}  # the last two: one embedding


def test_identity_means_skip_rows_without_an_embedding():
    emb = np.array([[1, 0], [np.nan, np.nan], [0, 1], [0, 1]], np.float32)
    names, means = identity_means(["a", "a", "b", "c"], emb)
    assert names == ["a", "b", "c"]
    assert np.allclose(means, [[1, 0], [0, 1], [0, 1]])
    names, _ = identity_means(["a", "b"], np.array([[1, 0], [np.nan, np.nan]], np.float32))
    assert names == ["a"]


def test_with_duplicates_adds_other_names_both_ways():
    pairs = [("lfw:A", "cfp:A2"), ("cfp:B", "celeba:9")]
    assert with_duplicates({"cfp:A2"}, pairs) == {"cfp:A2", "lfw:A"}
    assert with_duplicates({"cfp:B"}, pairs) == {"cfp:B", "celeba:9"}
    assert with_duplicates({"lfw:C"}, pairs) == {"lfw:C"}
    assert has_duplicate(pairs) == {"lfw:A", "cfp:A2", "cfp:B", "celeba:9"}


def test_the_committed_table_holds_the_people_found_by_eye():
    pairs = {frozenset(p) for p in read_duplicates()}
    for a, b in (("lfw:Nancy_Pelosi", "cfp:Nancy Peloci"), ("lfw:George_W_Bush", "cfp:George Bush"),
                 ("lfw:Kevin_Costner", "cfp:Jevin Kostner")):
        assert frozenset((a, b)) in pairs


# --- with the data: training keeps the held-out people out under every name ------------------


@pytest.fixture(scope="module")
def data_root():
    return data_dir("cfp").parent


def test_training_never_sees_held_out_people_under_another_name(data_root):
    from training.splits import clean_holdout_cfp_people, excluded_people, holdout_cfp_people

    excluded = excluded_people(PRESETS["distill"], data_root)
    # DevTest's Nancy_Pelosi is CFP's "Nancy Peloci"; held-out CFP "George Bush" is LFW's George_W_Bush.
    assert {"lfw:Nancy_Pelosi", "cfp:Nancy Peloci", "cfp:George Bush", "lfw:George_W_Bush"} <= excluded
    held = holdout_cfp_people(data_root, 50)
    clean = clean_holdout_cfp_people(data_root, 50)
    assert clean < held and "cfp:George Bush" not in clean
    assert not clean & has_duplicate()


def test_configs_saved_before_the_change_load_as_they_were_trained(tmp_path, data_root):
    from training.splits import excluded_people

    old = {k: v for k, v in json.loads(json.dumps(TrainConfig().__dict__)).items() if k != "exclude_other_names"}
    (tmp_path / "config.json").write_text(json.dumps(old))
    cfg = TrainConfig.load(tmp_path / "config.json")
    assert cfg.exclude_other_names is False
    assert "cfp:Nancy Peloci" not in excluded_people(cfg, data_root)
    assert "lfw:Nancy_Pelosi" in excluded_people(cfg, data_root)
