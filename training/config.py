"""One configuration object per experiment, saved beside every checkpoint (as JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


@dataclass
class TrainConfig:
    name: str = "distill"
    seed: int = 0
    # Data
    data_root: str = ""  # "" = ../shared/data or $PHOTOFACE_DATA
    cache_dir: str = ""  # "" = $PHOTOFACE_CACHE or ~/.cache/photoface
    sources: tuple[str, ...] = ("lfw", "cfp", "celeba")
    # Identities never trained on: "view1" (peopleDevTest.txt), "view2-fold-N", or "none".
    exclude: str = "view1"
    holdout_cfp_people: int = 50  # a cross-domain check: CFP people never trained on
    # Also keep out those people's other identities in the data (training/duplicates.py: e.g.
    # CFP's "Nancy Peloci" is LFW DevTest's Nancy_Pelosi). A saved config without the key loads
    # as False: its run was trained without it.
    exclude_other_names: bool = True
    # Model
    backbone: str = "resnet"
    input_size: int = 96
    embedding_size: int = 128
    widths: tuple[int, ...] = (32, 64, 128, 256)
    blocks: tuple[int, ...] = (1, 2, 3, 1)
    dropout: float = 0.0
    # Triplet loss and mining
    alpha: float = 0.2
    miner: str = "semihard"  # "semihard" (online, P x K) or "offline" (student project)
    people_per_batch: int = 32  # P
    images_per_person: int = 4  # K
    num_same: int = 2  # offline generator
    num_diff: int = 4  # offline generator
    # Teacher (dlib's network, training/teacher.py): weight 0 trains the pure triplet recipe.
    distill_weight: float = 4.0
    relational_weight: float = 1.0
    # "centered": regress onto normalise(teacher - mean teacher embedding). dlib's unit
    # embeddings sit in a narrow cone (mean norm 0.91; different people only 0.36 apart), so raw
    # targets leave the student no room for error; centred, different people are ~2 apart.
    teacher_target: str = "centered"
    # Share of batches made of look-alike identities (nearest by the teacher's mean embedding;
    # ``dataset.IdentitySampler``). 0: every batch draws its identities at random.
    lookalike_batches: float = 0.0
    # Consistent teaching (``training/views.py``): this many cached degraded views per face, each
    # with the teacher's embedding of that same view. A sample is one of them with probability
    # ``view_share`` (then only mirrored and jittered on the fly). 0: every target is the
    # teacher's embedding of the clean photo, whatever the augmentation did to the crop.
    teacher_views: int = 0
    view_share: float = 0.5
    # Augmentation: "real" (photo-like degradations), "basic" (flip, jitter, brightness) or
    # "clean" ("real" without blur, low resolution, JPEG and occlusion: with ``teacher_views``
    # those come only from the views, whose targets match them)
    augment: str = "real"

    # Schedule
    epochs: int = 20
    steps_per_epoch: int = 200
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    warmup_epochs: int = 1
    # "mixed_bfloat16": compute in bfloat16, weights and losses in float32. On this machine's
    # AMD EPYC (avx512_bf16) a training step took 0.57 s instead of 0.85 s; model.keras is saved
    # as float32 whatever the run computed in, so export and evaluation are unchanged.
    precision: str = "float32"
    # A finished run whose network starts this one (a new schedule, not a resume): longer
    # training on 2 cores without throwing away the epochs already paid for.
    init_from: str = ""
    out_dir: str = "runs/distill"
    notes: list[str] = field(default_factory=list)

    @property
    def batch_size(self) -> int:
        """P x K images; the offline generator fills about as many with whole triplets (an even
        number of them, so the batch is even too)."""
        if self.miner == "offline":
            return 6 * (self.people_per_batch * self.images_per_person // 6)
        return self.people_per_batch * self.images_per_person

    def __post_init__(self):
        # TensorFlow 2.21 (CPU) crashed with a segmentation fault training on batches of 15 here
        # (12, 14, 16 and 18 ran): keep batches even.
        if self.batch_size % 2 or self.batch_size < 6:
            raise ValueError(f"batch size {self.batch_size}: use an even size of at least 6")

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        raw = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}")
        raw.setdefault("exclude_other_names", False)
        for key in ("sources", "widths", "blocks"):
            if key in raw:
                raw[key] = tuple(raw[key])
        return cls(**raw)

    def replace(self, **changes) -> "TrainConfig":
        data = asdict(self)
        data.update(changes)
        return TrainConfig(**data)


PRESETS = {
    # The distilled recipe: triplet loss + dlib teacher, photo-like augmentation.
    "distill": TrainConfig(),
    # The pure triplet recipe (no teacher), kept reproducible.
    "triplet": TrainConfig(name="triplet", distill_weight=0.0, relational_weight=0.0, augment="basic", out_dir="runs/triplet"),
    # Tiny settings for tests and smoke runs.
    "smoke": TrainConfig(
        name="smoke", input_size=32, widths=(8, 16), blocks=(1, 1), epochs=4, steps_per_epoch=6,
        people_per_batch=4, images_per_person=4, learning_rate=5e-3, warmup_epochs=0,
        distill_weight=0.0, relational_weight=0.0, augment="basic", exclude="none",
        holdout_cfp_people=0, out_dir="runs/smoke",
    ),
}
