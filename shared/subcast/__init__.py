"""subcast: newsletter-to-messenger broadcasting that subscribers control by messaging.

Three rings, imports pointing inwards only:
``domain`` (pure rules) <- ``adapters`` (DynamoDB, SQS, providers) <- ``services`` (use cases).
"""
