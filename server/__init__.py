"""mkg: a linked-data publisher for what documents say about militant organizations.

One package, two tiers that meet only at the release folder (see docs/architecture.md):

* shared: ``config`` (settings), ``vocab`` (namespaces and the IRI scheme), ``cli`` (the ``mkg`` command)
* build tier: ``sources`` -> ``graph`` -> ``checks`` -> ``release``; never imports Flask
* web tier: ``app`` (factory) with ``store``, ``formats`` and the blueprints; never imports
  pyshacl, owlready2 or the build modules
"""
