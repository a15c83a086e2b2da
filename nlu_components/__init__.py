"""The assistant's own Rasa pipeline components (``config.yml`` names them by module path).

They run inside ``rasa`` in ``.venv-bot`` (Python 3.10); ``rasa`` puts the project folder on
``sys.path``, so ``nlu_components.<module>.<Class>`` resolves from there.
"""
