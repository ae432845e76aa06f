"""`python -m devstack.bedrock --port 5002`: the local Bedrock endpoint on its own, until Ctrl-C."""

from devstack.bedrock.server import main

main()
