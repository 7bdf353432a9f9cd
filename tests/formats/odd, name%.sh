#!/bin/bash
# A file name with a space, a comma and a percent sign, and a TTL with characters that GitHub
# commands, URIs, XML and JSON escape.
ID=$(curl -s -X GET "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
TOKEN=$(curl -s -X PUT "http://169.254.169.254/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 5%<"&">')
