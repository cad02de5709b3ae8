"""The process assembly: builds every part of the service and wires them together.

It sits above everything it wires (servicers, pipelines, providers, stores); only `cli` and
`fleet` import it. Nothing below imports it: parts receive what they need as arguments.
"""
