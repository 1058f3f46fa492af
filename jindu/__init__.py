"""jindu (禁毒): the platform on which a county runs its drug-control work."""

__version__ = "0.1.0"
