"""The review service (``reviewer serve``): an OpenAI-compatible, principle-guided model
endpoint and the structured ``/v1/review`` protocol, on FastAPI and uvicorn (the ``serve``
extra). Imported only by the ``serve`` command and its tests."""
