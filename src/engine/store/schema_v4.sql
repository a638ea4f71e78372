-- Version 4: duration history reads a pipeline's recent runs by id.
CREATE INDEX runs_pipeline ON runs (pipeline, id);
