"""The adversarial and fault suite (issue 12): each case asserts the exact outcome.

The shared fixtures of ``tests/conftest.py`` (``client``, ``api``, ``nodes``, ...) serve here
too; fixtures that only this suite needs live below.
"""
