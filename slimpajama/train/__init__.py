"""The trainer hook: `stream` (TokenStream over Megatron shards, the BTLM phase schedule), `btlm`
(a tiny BTLM-architecture model for `train-smoke`; needs torch), `cli` (click command).

May import: `slimpajama.core`, `slimpajama.io`, `slimpajama.console`; torch only in `btlm`.
Public API: `from slimpajama.train import TokenStream, load_schedule, phase_streams`.
"""

from slimpajama.train.stream import (
    BTLM_SCHEDULE_PATH,
    Phase,
    TokenStream,
    load_schedule,
    phase_streams,
    token_span,
)

__all__ = ["BTLM_SCHEDULE_PATH", "Phase", "TokenStream", "load_schedule", "phase_streams", "token_span"]
