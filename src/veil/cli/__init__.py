"""The ``veil`` command: argv -> PipelineConfig -> pipeline calls, nothing else."""
