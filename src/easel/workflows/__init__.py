"""Workflows: declared chains of steps (chat -> image -> upscale -> Markdown) and their runs.

- `definition`: the YAML file's shape and `parse_workflow`
- `validate`: references, cycles, model kinds, inputs; the run order
- `template`: the `{{ ... }}` evaluator (paths and filters, no code)
- `structured`: lists and JSON read leniently from chat answers
- `steps`: what each step kind does with one model; `runner`: a run as one job, resumable
- `views`: the API's public shapes; `bundle`: a run as a zip; `builtin/`: shipped templates
"""
