"""The consent steps as plain Python: reading answers, the steps of the flow, questions asked mid-step, the record."""
