"""The portal domain: accounts, access levels, catalogue, booking, records, documents, audit.

It imports nothing else of this project; the hub composes it into the running application.
"""
