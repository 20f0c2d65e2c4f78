"""Local emulators of SageMaker Runtime and Bedrock Runtime (real wire protocols) for tests and the dev server."""
