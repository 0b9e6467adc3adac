"""What test modules share, so that no test module imports from another: the registry world
(`world`), the public data files (`public_data`), operations and sessions through the API
(`operations`), and the disclosure matrix with the tiles that show it (`disclosure`).
Fixtures live in `tests/conftest.py`; tests/project/test_import_graph.py keeps it that way."""
