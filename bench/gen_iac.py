#!/usr/bin/env python3
"""Writes a repeatable synthetic infrastructure tree for bench/run.sh --scaling.

usage: gen_iac.py DIR SCALE

SCALE x 100 module directories, each with a Terraform file (a launch template whose user data is
a script in the same directory, read with file(), a hop limit of 1, and twenty resources that carry
no instance settings, as generated Terraform has), the boot script (requests with and without a
token), a Kubernetes pod whose container reaches the metadata service, a Dockerfile and a few
files no front end reads. Every module is like the others, so the time per file should not grow
with SCALE.
"""
import os
import sys

TF = """resource "aws_launch_template" "nodes_{i}" {{
  name      = "nodes-{i}"
  user_data = filebase64("${{path.module}}/boot.sh")
  metadata_options {{
    http_endpoint               = "enabled"
    http_tokens                 = "optional"
    http_put_response_hop_limit = 1
  }}
}}

resource "aws_autoscaling_group" "nodes_{i}" {{
  name = "nodes-{i}"
  launch_template {{
    id      = aws_launch_template.nodes_{i}.id
    version = aws_launch_template.nodes_{i}.latest_version
  }}
  min_size = 1
  max_size = 3
}}
"""

RULE = """
resource "aws_security_group_rule" "rule_{i}_{j}" {{
  type              = "ingress"
  from_port         = {port}
  to_port           = {port}
  protocol          = "tcp"
  cidr_blocks       = ["10.{j}.0.0/16"]
  security_group_id = aws_security_group.nodes_{i}.id
  description       = "rule {j} of module {i}: \\"quoted\\" ${{var.cluster_name}}"
}}
"""

BOOT = """#!/bin/bash
set -euo pipefail
# Module {i}: what the node needs at boot.
REGION=$(curl -s http://169.254.169.254/latest/meta-data/placement/region)
TOKEN=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" http://169.254.169.254/latest/api/token)
ID=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)
echo "module {i} in $REGION on $ID"
"""

POD = """apiVersion: v1
kind: Pod
metadata:
  name: agent-{i}
spec:
  containers:
    - name: agent
      image: registry.example.com/agent:{i}
      command: ["sh", "-c", "curl -s http://169.254.169.254/latest/meta-data/instance-id"]
"""

DOCKERFILE = """FROM debian:12
RUN apt-get update && apt-get install -y curl
COPY run.sh /run.sh
ENTRYPOINT ["/run.sh"]
"""

README = "# Module {i}\n\nNodes for part {i} of the cluster. Nothing here reaches the metadata service.\n"

GO = """package module{i}

// Port returns the port of rule j.
func Port(j int) int {{ return 1000 + j*{i} }}
"""


def main() -> None:
    root, scale = sys.argv[1], int(sys.argv[2])
    for i in range(scale * 100):
        directory = os.path.join(root, f"group{i // 50}", f"module{i}")
        os.makedirs(directory, exist_ok=True)
        tf = TF.format(i=i) + "".join(RULE.format(i=i, j=j, port=1000 + j) for j in range(20))
        files = {
            "main.tf": tf,
            "boot.sh": BOOT.format(i=i),
            "pod.yaml": POD.format(i=i),
            "Dockerfile": DOCKERFILE,
            "run.sh": "#!/bin/sh\nexec /usr/bin/agent --module %d\n" % i,
            "README.md": README.format(i=i),
            "port.go": GO.format(i=i),
        }
        for name, text in files.items():
            with open(os.path.join(directory, name), "w") as f:
                f.write(text)


if __name__ == "__main__":
    main()
