"""AWS: Bedrock, signed with SigV4 by botocore."""
