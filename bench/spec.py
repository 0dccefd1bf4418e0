"""What the benchmark's event logs contain (no heavy imports: the timed jobs read it)."""

EVENT_NAMES = [f"s{stage}_e{k}" for stage in range(4) for k in range(10)]
CHANNELS = ["web", "app", "email"]
FUNNEL = ["s0_e0", "s1_e0", "s2_e0", "s3_e0"]  # the 4-step funnel every tool computes
