"""The model card says how its networks were trained: teacher, data, and a fine-tune's starting point."""

import json

from training.export import build_card, recipe_of


def write_run(folder, **config):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_a_fine_tuned_networks_card_carries_its_starting_points_recipe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # init_from is relative to where training ran
    write_run(tmp_path / "runs" / "base", name="distill", seed=0, epochs=48, distill_weight=4.0,
              sources=["lfw", "cfp", "celeba"], exclude="view1", holdout_cfp_people=50)
    fine = write_run(tmp_path / "runs" / "fine", name="distill", seed=7, epochs=12, distill_weight=4.0,
                     teacher_views=2, init_from="runs/base", sources=["lfw", "cfp", "celeba"],
                     exclude="view1", holdout_cfp_people=50)
    recipe = recipe_of(fine)
    assert recipe["started_from"]["epochs"] == 48 and recipe["epochs"] == 12

    card = build_card({"name": "distill-x2", "members": [recipe_of(tmp_path / "runs" / "base"), recipe]},
                      "ab" * 32, 96, 128, None)
    training = card["training"]
    assert "dlib" in training["teacher"] and "2 degraded views" in training["teacher"]
    assert training["data"].startswith("celeba, cfp, lfw")
    assert "View 1 DevTest" in training["data"] and "50 CFP people" in training["data"]


def test_a_pure_triplet_recipe_names_no_teacher(tmp_path):
    run = write_run(tmp_path / "triplet", name="triplet", distill_weight=0.0, sources=["lfw"], exclude="")
    card = build_card(recipe_of(run), "cd" * 32, 96, 128, None)
    assert "teacher" not in card["training"]
    assert card["training"]["data"].startswith("lfw") and "never trained on" not in card["training"]["data"]


def test_a_missing_starting_point_leaves_the_recipe_as_it_is(tmp_path):
    run = write_run(tmp_path / "fine", name="distill", init_from="/nowhere/run", distill_weight=4.0)
    assert "started_from" not in recipe_of(run)


def test_updating_a_card_rebuilds_its_training_section_from_the_runs(tmp_path, monkeypatch):
    from training.export import update_card

    monkeypatch.chdir(tmp_path)
    write_run(tmp_path / "runs" / "base", name="distill", epochs=48, distill_weight=4.0, sources=["lfw"])
    old = {"name": "distill", "epochs": 12, "distill_weight": 4.0, "sources": ["lfw"],
           "init_from": "runs/base", "out_dir": "runs/fine"}
    write_run(tmp_path / "runs" / "fine", **old)
    model = tmp_path / "model"
    model.mkdir()
    card = build_card(old, "ef" * 32, 96, 128, None)
    card["training"] = {"recipe": old, "data": "see recipe"}  # a card written before the teacher was named
    (model / "model_card.json").write_text(json.dumps(card))

    new = update_card(model)
    assert new["training"]["recipe"]["started_from"]["epochs"] == 48
    assert "dlib" in new["training"]["teacher"]
    assert new["version"] == card["version"] and new["sha256"] == card["sha256"]
    assert json.loads((model / "model_card.json").read_text()) == new


def test_a_card_can_take_a_reports_figures_and_keep_its_thresholds(tmp_path):
    from training.export import update_card

    recipe = {"name": "distill", "exclude": "view1", "holdout_cfp_people": 50, "sources": ["lfw", "cfp"]}
    model = tmp_path / "model"
    model.mkdir()
    card = build_card(recipe, "ef" * 32, 96, 128, None)
    card["embedding"]["same_person_threshold"] = 1.0
    card["operating_points"] = {"name_threshold": {"value": 0.86}}
    (model / "model_card.json").write_text(json.dumps(card))
    report = {"version": card["version"], "figures": {"cfp_held_out_frontal_frontal": 0.93},
              "threshold": {"value": 1.2, "chosen_on": "elsewhere"},
              "operating_points": {"name_threshold": {"value": 0.98}}}
    new = update_card(model, report, keep_thresholds=True)
    assert new["figures"]["cfp_held_out_frontal_frontal"] == 0.93
    assert new["embedding"]["same_person_threshold"] == 1.0
    assert new["operating_points"] == {"name_threshold": {"value": 0.86}}
    # Trained before the held-out people's other names were kept out: the card says so.
    assert "trained on under it" in new["training"]["data"]


def test_a_new_export_keeps_the_replaced_models_figures_in_its_card(tmp_path):
    import json

    from training.export import history_of

    old = {"version": "old-1", "date": "2026-11-22", "input": {"size": 96, "template": "arcface"},
           "figures": {"lfw_view1_devtest_accuracy": 0.955}, "training": {"recipe": {"name": "distill"}},
           "history": [{"version": "older-0"}]}
    (tmp_path / "model_card.json").write_text(json.dumps(old))
    history = history_of(tmp_path / "model_card.json")
    assert [h["version"] for h in history] == ["old-1", "older-0"]
    assert history[0]["figures"] == {"lfw_view1_devtest_accuracy": 0.955} and history[0]["recipe"] == "distill"
    assert history_of(tmp_path / "none.json") == []
