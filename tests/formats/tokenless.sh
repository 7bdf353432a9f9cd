#!/bin/bash
# A tokenless request (IMDS001, fixable), on a line whose columns count "é" as one character.
echo "région: $(curl -s http://169.254.169.254/latest/meta-data/placement/region)"
# The same request twice: two findings with the same text, told apart by their fingerprints.
curl -s http://169.254.169.254/latest/meta-data/instance-id
curl -s http://169.254.169.254/latest/meta-data/instance-id
# A request over two lines: GitHub gets no columns for it.
wget -q -O - \
  http://169.254.169.254/latest/meta-data/ami-id
