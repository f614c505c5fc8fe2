"""The course catalogue demo: tables, resources, seed data and roles."""

from collabadmin.demo.app import create_demo_app

__all__ = ["create_demo_app"]
