"""The consent steps: reading candidacy answers, the steps of the flow, and the typed consent record."""
