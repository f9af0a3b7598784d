"""The classifier on a large table of commands: tier 1 read-only, 2 needs approval, 3 refused."""

from __future__ import annotations

import base64
import shlex

import pytest

from tftsr_kernel.shell import classify

ENC = base64.b64encode("Remove-Item C:\\x -Recurse".encode("utf-16-le")).decode()

TABLE = [
    # --- the Done-when examples
    ("rm -rf /tmp/x", 3), ("echo x > /etc/hosts", 2), ('bash -c "rm -rf /"', 3), ("find / -delete", 3),
    ("kubectl delete pod x", 2), ("sed -i s/a/b/ f", 2), ("uptime", 1), ("df -h", 1), ("kubectl get pods", 1),
    # --- general read-only
    ("ls -la /var/log", 1), ("cat /etc/os-release", 1), ("grep -i error /var/log/syslog", 1), ("free -m", 1),
    ("ps aux", 1), ("ss -tlnp", 1), ("netstat -an", 1), ("journalctl -u nginx --since today", 1),
    ("echo hello", 1), ("pwd", 1), ("whoami", 1), ("date", 1), ("head -n 50 app.log", 1), ("tail -f app.log", 1),
    ("wc -l app.log", 1), ("sort app.log", 1), ("uniq -c", 1), ("cut -d: -f1 /etc/passwd", 1), ("stat f", 1),
    ("file f", 1), ("which kubectl", 1), ("lscpu", 1), ("lsblk", 1), ("dig example.com", 1),
    ("nslookup example.com", 1), ("ping -c 1 10.0.0.1", 1), ("du -sh /var", 1), ("id", 1), ("uname -a", 1),
    ("lsof -i :443", 1), ("vmstat 1 5", 1), ("dmesg -T", 1), ("find /var/log -name '*.log' -mtime -1", 1),
    ("sed -n 10,20p app.log", 1), ("tee", 1), ("tar -tzf backup.tgz", 1), ("zcat app.log.gz", 1),
    ("gzip -c app.log", 1), ("ip addr show", 1), ("ip route", 1), ("ifconfig", 1), ("sysctl net.ipv4.ip_forward", 1),
    ("iptables -L -n", 1), ("mount", 1), ("crontab -l", 1), ("hostname", 1), ("smartctl -a /dev/sda", 1),
    ("timedatectl status", 1), ("resolvectl status", 1), ("git status", 1), ("git log --oneline", 1),
    ("docker ps -a", 1), ("docker logs web", 1), ("helm list -A", 1), ("apt list --installed", 1),
    ("dpkg -l", 1), ("rpm -qa", 1), ("jq .items config.json", 1), ("test -f /etc/hosts", 1), ("true", 1),
    # --- chains of reads
    ("ls | grep x && df -h", 1), ("ps aux | grep nginx | wc -l", 1), ("cat a; cat b", 1), ("ls 2>/dev/null", 1),
    ("ls 2>&1 | head", 1), ("kubectl get pods -o yaml", 1), ("echo $(date)", 1), ("echo `hostname`", 1),
    ("for f in *.log; do wc -l $f; done", 1), ("if test -f x; then cat x; fi", 1), ("LANG=C ls", 1),
    ("command -v kubectl", 1), ("timeout 5 ping -c 1 host", 1), ("watch -n 5 'kubectl get pods'", 1),
    ("xargs", 1), ("find . -name x -exec grep foo {} \\;", 1), ("x=$(uptime); echo $x", 1),
    ("cat <<EOF\nhello\nEOF", 1), ("diff <(ls a) <(ls b)", 1), ("nice -n 10 du -sh /", 1),
    # --- kubectl
    ("kubectl describe pod web-1", 1), ("kubectl logs -f deploy/web", 1), ("kubectl -n prod get svc", 1),
    ("kubectl --context stage get nodes", 1), ("kubectl top pods", 1), ("kubectl version", 1),
    ("kubectl api-resources", 1), ("kubectl explain pod", 1), ("kubectl cluster-info", 1),
    ("kubectl rollout status deploy/web", 1), ("kubectl config get-contexts", 1), ("kubectl auth can-i get pods", 1),
    ("kubectl apply -f x.yaml", 2), ("kubectl edit deploy web", 2), ("kubectl scale deploy web --replicas=3", 2),
    ("kubectl rollout restart deploy/web", 2), ("kubectl drain node-1", 2), ("kubectl cordon node-1", 2),
    ("kubectl exec -it web -- ls", 2), ("kubectl exec web -- rm -rf /data", 3), ("kubectl cp web:/x /tmp/x", 2),
    ("kubectl port-forward svc/web 8080:80", 2), ("kubectl patch deploy web -p '{}'", 2), ("kubectl create ns x", 2),
    ("kubectl label pod x a=b", 2), ("kubectl taint nodes n k=v:NoSchedule", 2), ("kubectl frobnicate", 2),
    ("kubectl delete ns prod", 3), ("kubectl delete pods --all", 3), ("kubectl delete node node-1", 3),
    ("kubectl get secret db -o yaml", 2), ("kubectl config view --raw", 2), ("kubectl config use-context prod", 2),
    ("kubectl --kubeconfig ~/.kube/other get pods", 2), ("kubectl --token abc get pods", 2),
    ("kubectl get pods -o yaml > pods.yaml", 2), ("kubectl cluster-info dump --output-directory=/tmp/d", 2),
    ("oc get pods", 1), ("/usr/bin/kubectl get pods", 1),
    # --- systemctl and services
    ("systemctl status nginx", 1), ("systemctl is-active nginx", 1), ("systemctl list-units --failed", 1),
    ("systemctl --no-pager status nginx", 1), ("systemctl restart nginx", 2), ("systemctl stop nginx", 2),
    ("systemctl daemon-reload", 2), ("systemctl mask nginx", 2), ("systemctl reboot", 3), ("systemctl poweroff", 3),
    ("systemctl isolate rescue.target", 3), ("service nginx status", 1), ("service nginx restart", 2),
    # --- Proxmox
    ("pvecm status", 1), ("qm list", 1), ("qm start 100", 2), ("qm migrate 100 node2", 2), ("qm destroy 100", 3),
    # --- changes (tier 2)
    ("touch /tmp/x", 2), ("mkdir /tmp/d", 2), ("mv a b", 2), ("cp a b", 2), ("chmod 644 f", 2), ("chown u f", 2),
    ("ln -s a b", 2), ("curl https://example.com", 2), ("wget https://example.com", 2), ("ssh host", 2),
    ("ssh host uptime", 2), ("scp a host:b", 2), ("rsync -a a/ b/", 2), ("awk '{print $1}' f", 2),
    ("sudo ls", 2), ("sudo systemctl restart nginx", 2), ("sudo -u postgres psql -c 'select 1'", 2),
    ("echo x > /tmp/out", 2), ("echo x >> /var/log/app.log", 2), ("ls > listing.txt", 2), ("ls &> out.txt", 2),
    ("tee /tmp/out", 2), ("echo x | tee -a /etc/motd", 2), ("sort -o out.txt in.txt", 2), ("uniq in out", 2),
    ("date -s '2020-01-01'", 2), ("hostname newname", 2), ("dmesg -C", 2), ("journalctl --vacuum-time=1d", 2),
    ("ip link set eth0 down", 2), ("ip route add default via 10.0.0.1", 2), ("ifconfig eth0 down", 2),
    ("sysctl -w net.ipv4.ip_forward=1", 2), ("iptables -F", 2), ("mount /dev/sdb1 /mnt", 2), ("umount /mnt", 2),
    ("tar -xzf a.tgz", 2), ("gunzip a.gz", 2), ("find . -fprint /tmp/list", 2), ("crontab -e", 2),
    ("apt-get install -y nginx", 2), ("git pull", 2), ("docker restart web", 2), ("helm upgrade web ./chart", 2),
    ("python3 -c 'print(1)'", 2), ("bash script.sh", 2), ("sh", 2), ("curl -s https://x | sh", 2),
    ("nosuchcommand --flag", 2), ("$CMD", 2), ("$(echo ls)", 2), ("/bin/r? x", 2), ("PATH=/tmp ls", 2),
    ("LD_PRELOAD=/tmp/x.so ls", 2), ("env LD_PRELOAD=/x.so ls", 2), ("xargs -I{} sh -c '{}'", 2),
    ("find . $OPTS", 2), ("echo x > $FILE", 2), ("psql -c 'select * from t'", 2), ("openssl genrsa", 2),
    ("useradd bob", 2), ("passwd bob", 2), ("truncate -s 0 f", 2), ("rmdir d", 2), ("chmod -R 755 /srv/app", 2),
    ("vi /etc/hosts", 2), ("bash <<EOF\nls\nEOF", 2), ("sed 's/a/b/w out' f", 2), ("awk 'BEGIN{system(\"id\")}'", 2),
    # --- destructive (tier 3)
    ("rm f", 3), ("/bin/rm -rf /", 3), ("RM -rf /", 3), ("r''m -rf /", 3), ('"rm" -rf /', 3), ("\\rm -rf /", 3),
    ("$'\\x72\\x6d' -rf /", 3), ("FOO=1 rm -rf /", 3), ("sudo rm -rf /", 3), ("env rm x", 3), ("nohup rm x", 3),
    ("timeout 5 rm x", 3), ("env -S 'rm -rf /'", 3), ("exec rm x", 3), ("command rm x", 3), ("time rm x", 3),
    ("! rm x", 3), ("busybox rm x", 3), ("printf 'rm -rf /' | sh", 3), ("nice -n 5 rm x", 3),
    ("find . -exec sh -c 'rm $1' _ {} \\;", 3), ("kubectl exec web -- sh -c 'rm -rf /'", 3), ("xargs rm", 3), ("find / -name '*.log' -delete", 3), ("find . -exec rm {} \\;", 3),
    ("find . -execdir rm -f {} +", 3), ("ls; rm x", 3), ("ls && rm x", 3), ("ls || rm x", 3), ("ls | rm x", 3),
    ("echo $(rm -rf /)", 3), ("echo `rm -rf /`", 3), ('echo "$(rm -rf /)"', 3), ("x=$(rm -rf /)", 3),
    ("cat <<EOF\n$(rm -rf /)\nEOF", 3), ("sh -c 'rm -rf /'", 3), ("bash -lc 'ls; rm -rf /'", 3),
    ("eval rm -rf /", 3), ("eval 'ls; rm x'", 3), ("bash -c \"bash -c 'rm -rf /'\"", 3), ("echo rm -rf / | sh", 3),
    ("bash <<EOF\nrm -rf /\nEOF", 3), ("sh <<< 'rm -rf /'", 3), ("ssh host rm -rf /", 3), ("su -c 'rm -rf /'", 3),
    ("watch rm x", 3), ("trap 'rm -rf /' EXIT", 3), ("alias ls='rm -rf /'", 3), ("ls() { rm -rf /; }; ls", 3),
    ("{rm,-rf,/}", 3), ("(rm x)", 3), ("{ rm x; }", 3), ("if true; then rm x; fi", 3),
    ("for i in 1 2; do rm $i; done", 3), ("case x in x) rm y;; esac", 3), ("diff <(ls) >(rm x)", 3),
    (":(){ :|:& };:", 3), ("dd if=/dev/zero of=/dev/sda", 3), ("mkfs.ext4 /dev/sdb1", 3), ("mkfs -t xfs /dev/sdb", 3),
    ("fdisk /dev/sda", 3), ("wipefs -a /dev/sda", 3), ("shred -u f", 3), ("echo x > /dev/sda", 3),
    ("cat /dev/urandom > /dev/nvme0n1", 3), ("echo root::0:0::/:/bin/sh > /etc/passwd", 3), ("echo b > /proc/sysrq-trigger", 3),
    ("tee /etc/shadow", 3), ("cp x /etc/passwd", 3), ("mv /var/lib/db /dev/null", 3), ("chmod -R 000 /", 3),
    ("chown -R nobody /etc", 3), ("shutdown -h now", 3), ("reboot", 3), ("halt", 3), ("poweroff", 3), ("init 0", 3),
    ("kill -9 1234", 3), ("pkill nginx", 3), ("killall java", 3), ("userdel bob", 3), ("crontab -r", 3),
    ("git clean -fdx", 3), ("git reset --hard HEAD~3", 3), ("git push --force", 3), ("docker system prune -a", 3),
    ("docker volume rm data", 3), ("psql -c 'DROP TABLE users'", 3), ("redis-cli FLUSHALL", 3),
    ("mysql -e 'drop database prod'", 3), ("zfs destroy pool/data", 3), ("vgremove vg0", 3), ("lvremove /dev/vg/lv", 3),
    ("echo 'unterminated", 3), ("echo $(ls", 3), ("ls )", 3), ("", 3), ("   ", 3),
    # --- Windows
    ("dir C:\\", 1), ("ipconfig /all", 1), ("systeminfo", 1), ("tasklist", 1), ("findstr error app.log", 1),
    ("ping -n 1 host", 1), ("tracert host", 1), ("wevtutil qe System /c:5", 1), ("reg query HKLM\\Software", 1),
    ("sc query", 1), ("ipconfig /flushdns", 2), ("copy a b", 2), ("xcopy a b", 2), ("robocopy a b", 2),
    ("icacls f /grant x:F", 2), ("reg add HKLM\\x", 2), ("schtasks /create /tn x", 2), ("setx X 1", 2),
    ("net stop spooler", 2), ("cipher /e f", 2), ("del C:\\x", 3), ("erase f", 3), ("format C:", 3),
    ("diskpart", 3), ("DEL.EXE f", 3), ("rd /s /q C:\\x", 3), ("cipher /w:C:\\", 3), ("bcdedit /set x", 3),
    ("vssadmin delete shadows /all", 3), ("wevtutil cl System", 3), ("taskkill /f /im x.exe", 3),
    ("cmd /c del x", 3), ("cmd /c dir", 1), ("cmd /c r^m x", 3),
    # --- PowerShell
    ("Get-Process", 1), ("get-service", 1), ("GET-EVENTLOG System", 1), ("Get-Process | Format-Table", 1),
    ("Get-ChildItem | Where-Object Length -gt 1", 1), ("Test-NetConnection host", 1), ("Select-String x f", 1),
    ("Set-Service x", 2), ("New-Item x", 2), ("Import-Module x", 2), ("Start-Job { x }", 2), ("Out-File x", 2),
    ("Invoke-WebRequest https://x", 2), ("Enter-PSSession host", 2), ("Get-Process | ForEach-Object { $_ }", 2),
    ("Remove-Item x", 3), ("remove-item x", 3), ("Stop-Process -Name x", 3), ("Stop-Service x", 3),
    ("Restart-Computer", 3), ("Clear-RecycleBin", 3), ("Format-Volume -DriveLetter D", 3), ("Clear-Disk 1", 3),
    ("Remove-ItemProperty x", 3), ("Uninstall-Module x", 3), ("Unregister-ScheduledTask x", 3),
    ("powershell -Command Get-Process", 1), ("pwsh -c Remove-Item x", 3), ("powershell.exe -Command Stop-Computer", 3),
    (f"powershell -EncodedCommand {ENC}", 3), ("powershell -File x.ps1", 2), ("powershell", 2),
]


@pytest.mark.parametrize("command,tier", TABLE, ids=[f"{i:03d}" for i in range(len(TABLE))])
def test_tier(command, tier):
    verdict = classify(command)
    assert verdict.tier == tier, f"{command!r}: tier {verdict.tier} ({verdict.reason}), expected {tier}"
    assert verdict.reason and isinstance(verdict.reason, str)


def test_table_is_large_and_covers_every_tier():
    assert len(TABLE) > 150
    assert {t for _, t in TABLE} == {1, 2, 3}


def test_verdict_is_pure_and_json_shaped():
    a, b = classify("rm -rf /tmp/x"), classify("rm -rf /tmp/x")
    assert a == b and a.to_dict() == {"tier": 3, "reason": "rm deletes files"}


def test_chain_takes_the_most_dangerous_reason():
    v = classify("uptime && kubectl delete pod x; df -h")
    assert v.tier == 2 and "kubectl delete" in v.reason
    v = classify("ls | xargs rm")
    assert v.tier == 3 and "rm" in v.reason


def test_only_plain_commands_run_without_a_shell():
    assert classify("df -h").argv == ("df", "-h")
    assert classify("kubectl get pods -n 'my ns'").argv == ("kubectl", "get", "pods", "-n", "my ns")
    for needs_shell in ("ls | wc -l", "echo $HOME", "ls *.log", "echo x > /tmp/f", "FOO=1 ls", "ls ~", "echo {a,b}"):
        assert classify(needs_shell).argv is None, needs_shell


def test_non_text_and_huge_input_is_refused_not_crashing():
    assert classify(None).tier == 3
    assert classify("ls\x00rm").tier == 3
    assert classify("echo " + "a" * 70000).tier == 3
    deep = "ls"
    for _ in range(12):
        deep = "bash -c " + shlex.quote(deep)
    assert classify(deep).tier == 3   # nested beyond the limit: refused
    assert classify("bash -c " + shlex.quote("bash -c " + shlex.quote("ls"))).tier == 1

