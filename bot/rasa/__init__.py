"""Everything that plugs into or patches Rasa: NLU component, tracker and lock stores, heap freeze, speed-ups."""
