"""Language-model APIs (the ``llm`` strategy source), translated to the error tree at the edge."""
