"""Accelerate launch configs for several GPUs (DeepSpeed ZeRO-2/3, FSDP2); pass one as --config_file."""
