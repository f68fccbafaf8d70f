"""The benchmark's configurations, shared by peer.py and compare.py; must match
Sources/recurrent-bench/RNNBench.swift."""

BASE = {
    "A": dict(batch=32, steps=50, input=100, hidden=128, layers=2),
    "B": dict(batch=64, steps=100, input=32, hidden=256, layers=1),
    "C": dict(batch=1, steps=100, input=64, hidden=128, layers=1),
    "D": dict(batch=128, steps=35, input=512, hidden=512, layers=2),
}
CONFIGS = dict(BASE)
CONFIGS["E"] = dict(BASE["A"], lengths=True)               # per-example lengths in [10, 50]
CONFIGS["F"] = dict(BASE["A"], bidirectional=True)
# Ours only, measured against our own A per real step (no peer runs these).
CONFIGS["EK"] = dict(BASE["A"], lengths=True, keras=True, against="A")   # Keras masks, E's lengths
CONFIGS["AD"] = dict(BASE["A"], recurrent_dropout=0.2, against="A")      # recurrent dropout 0.2
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def lengths(config):
    """Per-example lengths spread over [10, 50] (the formula of RNNBench.Config.lengths), or None."""
    c = CONFIGS[config]
    if not c.get("lengths"):
        return None
    return [min(c["steps"], 10 + (b * 37 + 11) % 41) for b in range(c["batch"])]


def valid_fraction(config):
    c, ls = CONFIGS[config], lengths(config)
    return 1.0 if ls is None else sum(ls) / (c["batch"] * c["steps"])


def flops(config, cell, training):
    """GEMM flops of one batch over its real steps (RNNBench.flops): per layer and direction,
    2·(T·B)·I_l·(G·H) + 2·(T·B)·H·(G·H), I_l = D·H above the first layer; training 3×."""
    c = CONFIGS[config]
    d = 2 if c.get("bidirectional") else 1
    total = 0
    for layer in range(c["layers"]):
        width = c["input"] if layer == 0 else d * c["hidden"]
        total += 2 * c["steps"] * c["batch"] * d * (width + c["hidden"]) * GATES[cell] * c["hidden"]
    return (3 if training else 1) * total * valid_fraction(config)
