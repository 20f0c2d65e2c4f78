"""gpt-oss invoke proxy: OpenAI-compatible chat completions over SageMaker and Bedrock, guardrailed."""
