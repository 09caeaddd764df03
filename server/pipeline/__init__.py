"""The build pipeline: a project's inputs (project), parsing (parse), SHACL
validation (validate, focus), the closure beside it (closure_job), the whole
build and the incremental one (build, incremental), its memory limit
(limits), and the saved queries (gallery). See docs/scale.md."""
