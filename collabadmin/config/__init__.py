"""The config file, ``collabadmin.toml``: resources and roles of an adopted database.

See docs/configuration.md for every key.
"""

from collabadmin.config.apply import apply_config, validate_scopes
from collabadmin.config.schema import Config, ConfigError, load_config, parse_config
from collabadmin.config.writer import write_config

__all__ = [
    "Config",
    "ConfigError",
    "apply_config",
    "load_config",
    "parse_config",
    "validate_scopes",
    "write_config",
]
