"""A service's start-up: importing the standard-library modules a web
service uses. Nearly every allocation comes from a stack seen for the
first time (compiling, unmarshalling code, building classes), the case a
stack cache cannot help with."""
import argparse
import asyncio
import concurrent.futures
import dataclasses
import datetime
import decimal
import email.message
import http.client
import http.server
import json
import logging
import socket
import sqlite3
import ssl
import typing
import urllib.request
import uuid
import xml.etree.ElementTree

print(len([argparse, asyncio, concurrent.futures, dataclasses, datetime, decimal, email.message, http.client,
           http.server, json, logging, socket, sqlite3, ssl, typing, urllib.request, uuid, xml.etree.ElementTree]))
