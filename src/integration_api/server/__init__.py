"""The gRPC server around the servicers: interceptors, status mapping, admission, probes, metrics.

It imports none of the domain packages; the servicers (`api`) and the process assembly stand
on it.
"""
