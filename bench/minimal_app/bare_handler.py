"""The cold-start floor: a bare Lambda handler that imports boto3, makes a bedrock-runtime client, answers."""

import json

import boto3

bedrock = boto3.client("bedrock-runtime")


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"ok": True}),
    }
