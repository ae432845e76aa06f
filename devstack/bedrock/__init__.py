"""The local Bedrock: InvokeModel with the same bodies, answers and errors, and the model lifecycle."""
