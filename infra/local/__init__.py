"""The local stack: template.yaml running on one machine, moto standing in for AWS."""
