#!/bin/sh
# A dynamic inventory: --list answers every group with _meta.hostvars.
if [ "$1" = "--list" ]; then
  cat <<'J'
{"webs": {"hosts": ["s1", "s2"], "vars": {"ansible_user": "scriptuser"}, "children": ["dbs"]},
 "dbs": ["s3"],
 "_meta": {"hostvars": {
   "s1": {"ansible_host": "203.0.113.1", "ansible_port": 2022},
   "s3": {"ansible_ssh_common_args": "-J jump@bastion:2200", "ansible_ssh_private_key_file": "/keys/s3"}}}}
J
else
  echo '{}'
fi
