"""The handoff core: data model, migrations and flows. Never imports Textual."""
