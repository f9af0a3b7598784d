"""The command lists of the classifier: which programs read, which change, which destroy.

Names are matched in lower case with the directory and a Windows extension removed (``/bin/rm``,
``RM``, ``del.exe``), so case and paths do not hide a command. A program in none of these lists
is unknown: tier 2. Programs whose effect depends on their arguments (``find``, ``sort -o``,
``date -s``, ``kubectl``, ``systemctl``) have a rule in ``classify.py``.
"""

from __future__ import annotations

#: tier 3: always refused (the reference's list, and what it missed)
DESTRUCTIVE = {
    # files and disks
    "rm": "rm deletes files", "unlink": "unlink deletes a file", "shred": "shred destroys file contents",
    "srm": "srm deletes files", "wipe": "wipe destroys data", "dd": "dd writes raw blocks to files or disks",
    "fdisk": "fdisk rewrites partition tables", "sfdisk": "sfdisk rewrites partition tables",
    "cfdisk": "cfdisk rewrites partition tables", "gdisk": "gdisk rewrites partition tables",
    "sgdisk": "sgdisk rewrites partition tables", "parted": "parted rewrites partition tables",
    "wipefs": "wipefs erases file-system signatures", "blkdiscard": "blkdiscard discards every block of a device",
    "mkswap": "mkswap formats a device", "mke2fs": "mke2fs formats a device", "mkdosfs": "mkdosfs formats a device",
    "mkntfs": "mkntfs formats a device", "vgremove": "vgremove deletes a volume group",
    "lvremove": "lvremove deletes a logical volume", "pvremove": "pvremove deletes a physical volume",
    "userdel": "userdel deletes a user", "deluser": "deluser deletes a user", "groupdel": "groupdel deletes a group",
    "delgroup": "delgroup deletes a group",
    # power and processes
    "shutdown": "shutdown stops the machine", "reboot": "reboot restarts the machine",
    "halt": "halt stops the machine", "poweroff": "poweroff stops the machine",
    "init": "init changes the run level (stops or restarts the machine)", "telinit": "telinit changes the run level",
    "kexec": "kexec replaces the running kernel",
    "kill": "kill stops processes", "pkill": "pkill stops processes", "killall": "killall stops processes",
    "killall5": "killall5 stops every process", "skill": "skill stops processes", "xkill": "xkill stops processes",
    "taskkill": "taskkill stops processes", "tskill": "tskill stops processes",
    # Windows
    "format": "format erases a disk", "diskpart": "diskpart rewrites disks and partitions",
    "del": "del deletes files", "erase": "erase deletes files", "sdelete": "sdelete destroys files",
    "bcdedit": "bcdedit changes the boot configuration", "bootrec": "bootrec rewrites boot records",
    "dism": "dism changes the Windows image", "wimlib-imagex": "wimlib-imagex rewrites Windows images",
    "wimlib-imaging": "wimlib-imaging rewrites Windows images",
    # PowerShell (lower case; matched case-insensitively)
    "remove-item": "Remove-Item deletes files", "ri": "Remove-Item deletes files",
    "rd": "rd deletes directories",
    "clear-item": "Clear-Item deletes item contents", "stop-computer": "Stop-Computer stops the machine",
    "restart-computer": "Restart-Computer restarts the machine", "start-computer": "Start-Computer changes machine power",
    "stop-process": "Stop-Process stops processes", "spps": "Stop-Process stops processes",
    "start-process": "Start-Process starts programs", "suspend-process": "Suspend-Process suspends processes",
    "resume-process": "Resume-Process resumes processes", "wait-process": "Wait-Process waits on processes",
    "stop-service": "Stop-Service stops services", "spsv": "Stop-Service stops services",
    "start-service": "Start-Service starts services", "sasv": "Start-Service starts services",
    "suspend-service": "Suspend-Service suspends services", "resume-service": "Resume-Service resumes services",
    "restart-service": "Restart-Service restarts services",
    "invoke-item": "Invoke-Item opens or runs items", "ii": "Invoke-Item opens or runs items",
    "clear-recyclebin": "Clear-RecycleBin deletes files", "clear-host": "Clear-Host (refused as in the reference)",
    "unregister-scheduledtask": "Unregister-ScheduledTask deletes tasks",
    "remove-scheduledtask": "Remove-ScheduledTask deletes tasks", "remove-job": "Remove-Job deletes jobs",
    "remove-runspace": "Remove-Runspace deletes runspaces", "remove-appdomain": "Remove-AppDomain deletes app domains",
    "remove-pssession": "Remove-PSSession closes sessions", "remove-module": "Remove-Module unloads modules",
    "uninstall-package": "Uninstall-Package removes software", "uninstall-module": "Uninstall-Module removes modules",
    "remove-wmiobject": "Remove-WmiObject deletes WMI objects", "remove-itemproperty": "Remove-ItemProperty deletes properties",
    "remove-ciminstance": "Remove-CimInstance deletes CIM objects",
    "format-volume": "Format-Volume erases a volume", "clear-disk": "Clear-Disk erases a disk",
    "initialize-disk": "Initialize-Disk rewrites a disk", "remove-partition": "Remove-Partition deletes a partition",
    "clear-eventlog": "Clear-EventLog erases event logs", "remove-eventlog": "Remove-EventLog deletes event logs",
    "remove-localuser": "Remove-LocalUser deletes a user", "remove-aduser": "Remove-ADUser deletes a user",
    "remove-adcomputer": "Remove-ADComputer deletes a computer account", "remove-vm": "Remove-VM deletes a virtual machine",
}

#: tier 1: read-only whatever their arguments
READ_ONLY = {
    "cat", "grep", "egrep", "fgrep", "zgrep", "zegrep", "ls", "dir", "vdir", "df", "free", "ps", "netstat",
    "echo", "printf", "pwd", "whoami", "uptime", "head", "tail", "more", "wc", "cut", "tr", "test", "[",
    "stat", "readlink", "which", "whereis", "type", "help", "info", "lscpu", "lsblk", "lshw", "lspci",
    "lsusb", "hwinfo", "vgdisplay", "lvdisplay", "pvdisplay", "vgs", "lvs", "pvs", "dig", "host", "nslookup",
    "ldapsearch", "id", "groups", "w", "who", "last", "lastlog", "lastb", "uname", "lsof", "vmstat", "iostat",
    "mpstat", "pidstat", "sar", "nproc", "printenv", "findmnt", "blkid", "du", "diff", "cmp", "md5sum",
    "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum", "hexdump", "od", "strings",
    "zcat", "bzcat", "xzcat", "zstdcat", "zless", "zmore", "tac", "nl", "rev", "fold", "fmt", "paste", "join",
    "comm", "expand", "unexpand", "column", "seq", "true", "false", "sleep", "basename", "dirname",
    "realpath", "getent", "ping", "ping6", "traceroute", "traceroute6", "tracepath", "mtr", "lsmod",
    "modinfo", "pgrep", "pidof", "jq", "base64", "base32", "cal", "locale", "tty", "sync", "nstat", "lsns",
    "lsipc", "lslocks", "lsattr", "getfacl", "namei", "numfmt", "factor", "expr", "tsort", "look", "arch",
    "users", "logname", "top", "htop", "iotop", "iftop", "slabtop", "watch", "systemd-analyze", "systemd-cgls",
    "systemd-cgtop", "systemd-detect-virt", "ethtool", "iwconfig", "whois", "curl-config",
    "dstat", "atq", "chage", "cd", "history", "true", ":", "export", "unset", "set", "shift", "local",
    "declare", "typeset", "readonly", "read", "exit", "return", "wait", "jobs", "umask",
    "dirs", "hash", "alias", "unalias", "shopt", "getopts", "let", "printf", "kubectx", "kubens",
    # Windows
    "findstr", "fc", "comp", "driverquery", "systeminfo", "ver", "tracert", "nbtstat", "pathping",
    "hostname", "quser", "qwinsta", "chcp", "tasklist", "where", "vol", "cls", "getmac",
    # PowerShell read cmdlets and aliases
    "select-object", "where-object", "sort-object", "group-object", "measure-object", "format-table",
    "format-list", "format-wide", "format-custom", "out-string", "out-host", "out-default", "out-null",
    "write-output", "write-host", "select-string", "test-path", "test-connection", "test-netconnection",
    "resolve-dnsname", "convertto-json", "convertfrom-json", "convertto-csv", "convertfrom-csv",
    "compare-object", "gci", "gc", "gps", "gsv", "gl", "sls", "select", "where", "?", "sort", "ft", "fl", "fw",
    "measure", "write", "gal", "gcm", "gm", "gdr", "gp", "gv", "ghy", "h",
}

#: tier 2: changes something (the reference's lists); any program not listed anywhere is tier 2 too
CHANGES = {
    "ssh": "ssh runs commands on another host", "scp": "scp copies files between hosts",
    "rsync": "rsync copies and overwrites files", "chmod": "chmod changes permissions",
    "chown": "chown changes owners", "chgrp": "chgrp changes groups", "mv": "mv moves or overwrites files",
    "cp": "cp copies or overwrites files", "awk": "awk can write files and run commands",
    "gawk": "gawk can write files and run commands", "mawk": "mawk can write files and run commands",
    "sudo": "sudo runs a command as another user", "doas": "doas runs a command as another user",
    "ln": "ln creates or replaces links", "touch": "touch creates files or changes times",
    "truncate": "truncate cuts files", "mktemp": "mktemp creates files", "mkdir": "mkdir creates directories",
    "rmdir": "rmdir deletes directories", "mount": "mount attaches file systems", "umount": "umount detaches file systems",
    "curl": "curl sends requests and can write files", "wget": "wget downloads and writes files",
    "ftp": "ftp transfers files", "sftp": "sftp transfers files", "tftp": "tftp transfers files",
    "ldapmodify": "ldapmodify changes a directory", "ldapdelete": "ldapdelete deletes directory entries",
    "ldapadd": "ldapadd adds directory entries", "ldapbind": "ldapbind authenticates to a directory",
    "ldifde": "ldifde changes a directory", "csvde": "csvde changes a directory",
    "move": "move moves files", "ren": "ren renames files", "rename": "rename renames files",
    "copy": "copy copies files", "xcopy": "xcopy copies files", "robocopy": "robocopy copies and mirrors files",
    "mklink": "mklink creates links", "attrib": "attrib changes file attributes", "cacls": "cacls changes permissions",
    "icacls": "icacls changes permissions", "takeown": "takeown takes ownership of files",
    "setx": "setx changes environment settings", "subst": "subst maps drives",
    "pushd": "pushd can map network drives (Windows)", "popd": "popd can unmap network drives (Windows)",
    "nmap": "nmap scans hosts and can write files", "tcpdump": "tcpdump captures traffic and can write files",
    "useradd": "useradd creates a user", "usermod": "usermod changes a user", "passwd": "passwd changes a password",
    "chpasswd": "chpasswd changes passwords", "groupadd": "groupadd creates a group", "visudo": "visudo edits sudoers",
    "install": "install copies files", "modprobe": "modprobe loads kernel modules", "rmmod": "rmmod unloads kernel modules",
    "insmod": "insmod loads kernel modules", "swapoff": "swapoff disables swap", "swapon": "swapon enables swap",
    "chattr": "chattr changes file attributes", "setfacl": "setfacl changes permissions",
    "nc": "nc sends data over the network", "ncat": "ncat sends data over the network", "socat": "socat relays data",
    "python": "python runs a program", "python3": "python3 runs a program", "perl": "perl runs a program",
    "ruby": "ruby runs a program", "node": "node runs a program", "php": "php runs a program", "lua": "lua runs a program",
    "source": "source runs a script", ".": ". runs a script", "chroot": "chroot runs a command in another root",
    "strace": "strace traces and runs a program", "ltrace": "ltrace traces and runs a program", "gdb": "gdb runs a debugger",
    "e2fsck": "e2fsck repairs a file system", "fsck": "fsck repairs a file system", "xfs_repair": "xfs_repair repairs a file system",
    "badblocks": "badblocks tests a disk", "hdparm": "hdparm changes disk settings", "vi": "an editor",
    "vim": "an editor", "nano": "an editor", "emacs": "an editor", "ed": "ed edits files", "patch": "patch edits files",
    "wmic": "wmic changes Windows settings", "netsh": "netsh changes network settings", "net": "net changes Windows settings",
    "fsutil": "fsutil changes file systems", "openssl": "openssl can write keys and files", "tee": "tee writes files",
    "invoke-expression": "Invoke-Expression runs a script", "iex": "Invoke-Expression runs a script",
    "invoke-command": "Invoke-Command runs commands", "icm": "Invoke-Command runs commands",
    "invoke-webrequest": "Invoke-WebRequest sends requests", "iwr": "Invoke-WebRequest sends requests",
    "invoke-restmethod": "Invoke-RestMethod sends requests", "irm": "Invoke-RestMethod sends requests",
    "out-file": "Out-File writes files", "enter-pssession": "Enter-PSSession opens a remote session",
    "foreach-object": "ForEach-Object runs a script block", "%": "ForEach-Object runs a script block",
    "set-content": "Set-Content writes files", "add-content": "Add-Content writes files",
    "clear-content": "Clear-Content empties files",
}

#: interpreters that run a code string given with -c / -Command
SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "rbash", "busybox-sh"}
POWERSHELLS = {"powershell", "pwsh"}

#: wrappers: (options that take a value) -- the command after them is what runs
WRAPPERS = {
    "nice": {"-n", "--adjustment"}, "nohup": set(), "time": {"-f", "--format", "-o", "--output"},
    "ionice": {"-c", "--class", "-n", "--classdata", "-p", "--pid", "-P", "--pgid", "-u", "--uid"},
    "stdbuf": {"-i", "-o", "-e", "--input", "--output", "--error"}, "setsid": set(), "unbuffer": set(),
    "chrt": set(), "taskset": set(), "command": set(), "builtin": set(), "exec": {"-a"},
    "catchsegv": set(), "flock": {"-w", "--timeout", "-E", "--conflict-exit-code"},
    "timeout": {"-s", "--signal", "-k", "--kill-after"}, "env": {"-u", "--unset", "-C", "--chdir", "-S", "--split-string"},
    "xargs": {"-a", "--arg-file", "-d", "--delimiter", "-E", "-e", "--eof", "-I", "-i", "--replace", "-L", "-l",
              "--max-lines", "-n", "--max-args", "-P", "--max-procs", "-s", "--max-chars", "--process-slot-var"},
    "sudo": {"-u", "--user", "-g", "--group", "-C", "--close-from", "-D", "--chdir", "-h", "--host", "-p", "--prompt",
             "-R", "--chroot", "-T", "--command-timeout", "-U", "--other-user", "-r", "--role", "-t", "--type"},
    "doas": {"-u", "-C"}, "runuser": {"-u", "--user", "-g", "--group", "-G", "--supp-group"},
    "pkexec": {"--user"}, "strace": {"-o", "-e", "-p", "-s", "-u", "-E", "-P", "-I", "-b", "-a", "-X"},
    "ltrace": {"-o", "-e", "-p", "-s", "-u", "-a", "-n"}, "watch": {"-n", "--interval", "-d", "--differences", "-q"},
    "busybox": set(), "caffeinate": set(), "chroot": {"--userspec", "--groups"}, "faketime": set(),
}

#: file targets that must never be written: a write there destroys the system or its data
PROTECTED_FILES = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers", "/etc/fstab",
                   "/proc/sysrq-trigger", "/dev/mem", "/dev/kmem", "/dev/port")
PROTECTED_PREFIXES = ("/boot/", "/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk",
                      "/dev/md", "/dev/dm-", "/dev/mapper/", "/dev/disk/", "/dev/loop", "/dev/sr")
HARMLESS_TARGETS = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero")
#: directories a recursive chmod/chown must not touch
SYSTEM_DIRS = {"/", "/*", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/var", "/home", "/root",
               "/dev", "/proc", "/sys", "/opt", "/srv", "~", "/usr/bin", "/usr/lib", "/usr/sbin", "/etc/*", "/var/lib"}

#: environment variables that change which program runs or how it loads
LOADER_ENV = {"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "PATH", "BASH_ENV", "ENV", "PROMPT_COMMAND", "IFS",
              "PS4", "SHELLOPTS", "BASHOPTS", "GCONV_PATH", "PYTHONPATH", "PYTHONSTARTUP", "PERL5LIB", "PERL5OPT",
              "RUBYLIB", "RUBYOPT", "NODE_OPTIONS", "NODE_PATH", "LESSOPEN", "LESSCLOSE", "PAGER", "EDITOR",
              "VISUAL", "MANPAGER", "SYSTEMD_PAGER", "KUBECONFIG", "KUBE_EDITOR", "GIT_SSH_COMMAND", "GIT_EXEC_PATH",
              "HOME", "DYLD_INSERT_LIBRARIES", "SUDO_ASKPASS", "BASH_FUNC"}


#: what a site command (``shell_commands``) is about: the reference's 'kubectl', 'proxmox',
#: 'general', and the rest
SITE_CATEGORIES = ("general", "kubectl", "proxmox", "systemd", "network", "database", "windows", "runbook")
