#!/bin/sh
# The token header uses a variable nothing assigns (IMDS004, a warning without a fix).
curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/
